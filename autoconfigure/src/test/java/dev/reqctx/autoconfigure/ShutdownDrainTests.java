package dev.reqctx.autoconfigure;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellationCause;
import dev.reqctx.ContextRuntime;
import dev.reqctx.UnitOfWork;
import org.junit.jupiter.api.Test;

import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.support.GenericApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ShutdownDrain}: a shutdown cancels in-flight work before the grace period
 * ends; a context stopped without closing (the test framework's pause) cancels nothing.
 */
class ShutdownDrainTests {

	private final ContextRuntime runtime = new ContextRuntime("shutdown-drain-tests", 10, false);

	@Test
	void aClosingContextCancelsInFlightWorkAMarginBeforeTheGracePeriodEnds() throws Exception {
		ShutdownDrain drain = new ShutdownDrain(this.runtime, Duration.ofMillis(400), Duration.ofMillis(100));
		drain.start();
		try (UnitOfWork work = this.runtime.work("in-flight").start()) {
			CountDownLatch cancelled = new CountDownLatch(1);
			work.context().onCancel(cancelled::countDown);
			long start = System.nanoTime();
			drain.onApplicationEvent(new ContextClosedEvent(new GenericApplicationContext()));
			drain.stop();
			assertThat(cancelled.await(10, TimeUnit.SECONDS)).isTrue();
			assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("at 300 ms, not before")
				.isGreaterThanOrEqualTo(290);
			assertThat(work.context().cause()).isEqualTo(CancellationCause.SHUTDOWN);
		}
	}

	@Test
	void aContextStoppedWithoutClosingCancelsNothing() throws Exception {
		ShutdownDrain drain = new ShutdownDrain(this.runtime, Duration.ofMillis(100), Duration.ofMillis(50));
		drain.start();
		try (UnitOfWork work = this.runtime.work("paused").start()) {
			drain.stop(); // a pause: no ContextClosedEvent
			drain.start();
			// A cancel would come 50 ms after the stop; give it ten times that.
			CountDownLatch cancelled = new CountDownLatch(1);
			work.context().onCancel(cancelled::countDown);
			assertThat(cancelled.await(500, TimeUnit.MILLISECONDS)).isFalse();
		}
	}

	@Test
	void theCancelComesInTheSecondHalfOfTheGracePeriodAtTheEarliest() {
		assertThat(ShutdownDrain.cancelAfter(Duration.ofSeconds(30), Duration.ofSeconds(1))).hasSeconds(29);
		assertThat(ShutdownDrain.cancelAfter(Duration.ofSeconds(2), Duration.ofSeconds(5))).hasSeconds(1);
	}

}
