package dev.reqctx.test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.UnitOfWork;
import dev.reqctx.spi.Contexts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link WithDeadline}: the method runs in a unit of work with the deadline, which
 * ends with the method.
 */
@NoContextLeaks
class WithDeadlineTests {

	@AfterEach
	void theUnitEndedWithTheMethod() {
		assertThat(Scope.isAnyBound()).isFalse();
		assertThat(ContextRuntime.global().live().list()).noneMatch((ctx) -> ctx.kind() == ContextKind.WORK);
	}

	@Test
	@WithDeadline(200)
	void runsTheMethodUnderTheDeadline() throws InterruptedException {
		RequestContext ctx = RequestContext.current();
		assertThat(ctx.remaining()).hasValueSatisfying((left) -> assertThat(left)
			.isPositive().isLessThanOrEqualTo(Duration.ofMillis(200)));
		CancellableContext unit = ContextRuntime.global().live().find(ctx.id());
		assertThat(unit).as("listed in the live tree").isNotNull();
		assertThat(unit.kind()).isEqualTo(ContextKind.WORK);
		assertThat(Contexts.label(unit)).hasToString("test WithDeadlineTests.runsTheMethodUnderTheDeadline()");
		CountDownLatch cancelled = new CountDownLatch(1);
		ctx.onCancel(cancelled::countDown);
		assertThat(cancelled.await(10, TimeUnit.SECONDS)).as("cancelled at the deadline").isTrue();
		assertThat(ctx.cause()).isEqualTo(CancellationCause.DEADLINE_EXCEEDED);
	}

	@Test
	@WithDeadline(value = 5, unit = TimeUnit.SECONDS)
	void handsTheUnitToParameters(CancellableContext ctx, UnitOfWork work, RequestContext current) {
		assertThat(current.id()).isEqualTo(ctx.id()).isEqualTo(work.context().id());
		ctx.cancel();
		assertThat(RequestContext.current().cause()).isEqualTo(CancellationCause.CANCELLED);
	}

	@Test
	void withoutTheAnnotationNothingIsBound() {
		assertThat(Scope.isAnyBound()).isFalse();
	}

	@Nested
	@WithDeadline(value = 30, unit = TimeUnit.SECONDS)
	class OnAClass {

		@Test
		void appliesToEachMethod() {
			assertThat(RequestContext.current().remaining()).hasValueSatisfying((left) -> assertThat(left)
				.isGreaterThan(Duration.ofSeconds(20)).isLessThanOrEqualTo(Duration.ofSeconds(30)));
		}

	}

}
