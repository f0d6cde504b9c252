package dev.reqctx;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dev.reqctx.spi.Contexts;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Tests for {@link Deadline}: its arithmetic on a {@link FakeTicker} that moves only when told,
 * so every bound is exact, and how contexts take deadlines.
 */
class DeadlineTests {

	/** Far from zero, so no test passes only because time starts at 0. */
	private static final long START = 7_000_000_000L;

	private static final long MAX_OFFSET = Long.MAX_VALUE / 2;

	private final FakeTicker ticker = new FakeTicker(START);

	@Test
	void aDeadlineExpiresExactlyWhenItsTimeComes() {
		Deadline deadline = Deadline.after(Duration.ofMillis(100), this.ticker);
		assertThat(deadline.nanoTime()).isEqualTo(START + TimeUnit.MILLISECONDS.toNanos(100));
		this.ticker.advance(Duration.ofMillis(100).minusNanos(1));
		assertThat(deadline.isExpired()).as("one nanosecond before").isFalse();
		assertThat(deadline.remainingNanos()).isEqualTo(1);
		assertThat(deadline.remaining()).isEqualTo(Duration.ofNanos(1));
		this.ticker.advance(Duration.ofNanos(1));
		assertThat(deadline.isExpired()).as("at the deadline").isTrue();
		assertThat(deadline.remainingNanos()).isZero();
		assertThat(deadline.remaining()).isEqualTo(Duration.ZERO);
	}

	@Test
	void remainingShrinksWithTheTickerAndNeverGoesNegative() {
		Deadline future = Deadline.after(1, TimeUnit.MINUTES, this.ticker);
		assertThat(future.remaining()).isEqualTo(Duration.ofMinutes(1));
		this.ticker.advance(Duration.ofSeconds(20));
		assertThat(future.remaining()).isEqualTo(Duration.ofSeconds(40));
		assertThat(future.isExpired()).isFalse();
		this.ticker.advance(Duration.ofMinutes(1));
		assertThat(future.isExpired()).isTrue();
		assertThat(future.remaining()).as("never negative").isEqualTo(Duration.ZERO);
		assertThat(future.remainingNanos()).as("the raw difference, for hot paths")
			.isEqualTo(-TimeUnit.SECONDS.toNanos(20));
		Deadline past = Deadline.after(Duration.ofMillis(-10), this.ticker);
		assertThat(past.isExpired()).isTrue();
		assertThat(past.remaining()).isEqualTo(Duration.ZERO);
		assertThat(past.remainingNanos()).isEqualTo(-TimeUnit.MILLISECONDS.toNanos(10));
	}

	@Test
	void hugeDurationsSaturateInsteadOfOverflowing() {
		Deadline far = Deadline.after(Duration.ofSeconds(Long.MAX_VALUE), this.ticker);
		assertThat(far.isExpired()).isFalse();
		assertThat(far.remainingNanos()).isEqualTo(MAX_OFFSET);
		assertThat(Deadline.after(Long.MAX_VALUE, TimeUnit.DAYS, this.ticker)).isEqualTo(far);
		Deadline longAgo = Deadline.after(Duration.ofSeconds(Long.MIN_VALUE), this.ticker);
		assertThat(longAgo.isExpired()).isTrue();
		assertThat(longAgo.remainingNanos()).isEqualTo(-MAX_OFFSET);
		assertThat(Deadline.after(Long.MIN_VALUE, TimeUnit.NANOSECONDS, this.ticker)).isEqualTo(longAgo);
		// On the system ticker too (whatever its origin).
		assertThat(Deadline.after(Duration.ofSeconds(Long.MAX_VALUE)).isExpired()).isFalse();
		assertThat(Deadline.after(Duration.ofSeconds(Long.MIN_VALUE)).isExpired()).isTrue();
	}

	@Test
	void aTickerThatWrapsAroundKeepsRemainingTimesAndOrderRight() {
		FakeTicker nearTheEnd = new FakeTicker(Long.MAX_VALUE - 50);
		Deadline soon = Deadline.after(10, TimeUnit.NANOSECONDS, nearTheEnd);
		Deadline later = Deadline.after(100, TimeUnit.NANOSECONDS, nearTheEnd);
		Deadline far = Deadline.after(Duration.ofSeconds(Long.MAX_VALUE), nearTheEnd);
		assertThat(later.nanoTime()).as("past Long.MAX_VALUE").isNegative();
		assertThat(soon.isBefore(later)).isTrue();
		assertThat(later.isBefore(far)).isTrue();
		assertThat(soon).isLessThan(later);
		nearTheEnd.advance(Duration.ofNanos(60));
		assertThat(nearTheEnd.nanoTime()).as("the ticker wrapped").isNegative();
		assertThat(soon.remainingNanos()).isEqualTo(-50);
		assertThat(later.remainingNanos()).isEqualTo(40);
		assertThat(far.remainingNanos()).isEqualTo(MAX_OFFSET - 60);
	}

	@Test
	void theEarliestOfTwoDeadlinesWinsAndATieKeepsTheFirst() {
		Deadline soon = Deadline.after(Duration.ofSeconds(1), this.ticker);
		Deadline later = Deadline.after(Duration.ofSeconds(2), this.ticker);
		Deadline sameAsSoon = Deadline.after(Duration.ofSeconds(1), this.ticker);
		assertThat(soon.earliest(later)).isSameAs(soon);
		assertThat(later.earliest(soon)).isSameAs(soon);
		assertThat(soon.earliest(null)).isSameAs(soon);
		assertThat(soon.earliest(sameAsSoon)).isSameAs(soon);
		assertThat(sameAsSoon.earliest(soon)).isSameAs(sameAsSoon);
		assertThat(soon.isBefore(later)).isTrue();
		assertThat(soon.isBefore(sameAsSoon)).isFalse();
		assertThat(soon).isLessThan(later).isEqualTo(sameAsSoon).hasSameHashCodeAs(sameAsSoon);
	}

	@Test
	void deadlinesOfTwoTickersCannotBeOrdered() {
		FakeTicker other = new FakeTicker(START);
		Deadline mine = Deadline.after(Duration.ofSeconds(1), this.ticker);
		Deadline theirs = Deadline.after(Duration.ofSeconds(1), other);
		assertThat(mine).as("same time, another clock").isNotEqualTo(theirs);
		assertThatIllegalArgumentException().isThrownBy(() -> mine.isBefore(theirs))
			.withMessageContaining("different tickers");
		assertThatIllegalArgumentException().isThrownBy(() -> mine.compareTo(theirs));
		assertThatIllegalArgumentException().isThrownBy(() -> mine.earliest(Deadline.after(Duration.ofSeconds(2))));
	}

	@Test
	void deadlinesReadTheSystemTickerUnlessToldOtherwise() {
		assertThat(Deadline.after(Duration.ofSeconds(1)).ticker()).isSameAs(Deadline.Ticker.system());
		assertThat(Deadline.after(1, TimeUnit.SECONDS).ticker()).isSameAs(Deadline.Ticker.system());
		assertThat(Deadline.atNanoTime(START).ticker()).isSameAs(Deadline.Ticker.system());
		assertThat(Deadline.after(Duration.ofSeconds(1), this.ticker).ticker()).isSameAs(this.ticker);
	}

	@Test
	void toStringSaysHowFarAwayTheDeadlineIs() {
		Deadline deadline = Deadline.after(Duration.ofMillis(100), this.ticker);
		assertThat(deadline).hasToString("Deadline[100 ms from now]");
		this.ticker.advance(Duration.ofMillis(150));
		assertThat(deadline).hasToString("Deadline[50 ms ago]");
	}

	@Test
	void aChildContextHasTheEarlierOfItsOwnAndItsParentsDeadline() {
		// Fixed points on the system clock, far enough away that none fires during the test.
		long base = System.nanoTime();
		Deadline inAnHour = Deadline.atNanoTime(base + TimeUnit.HOURS.toNanos(1));
		try (CancellableContext parent = RequestContext.root().withDeadline(inAnHour);
				CancellableContext later = parent.withDeadline(Deadline.atNanoTime(base + TimeUnit.HOURS.toNanos(2)));
				CancellableContext tie = parent.withDeadline(Deadline.atNanoTime(base + TimeUnit.HOURS.toNanos(1)));
				CancellableContext sooner = parent
					.withDeadline(Deadline.atNanoTime(base + TimeUnit.MINUTES.toNanos(30)))) {
			assertThat(later.deadline()).containsSame(inAnHour);
			assertThat(later.timed).as("the parent's timer covers it").isFalse();
			assertThat(tie.deadline()).containsSame(inAnHour);
			assertThat(tie.timed).isFalse();
			assertThat(sooner.deadline()).contains(Deadline.atNanoTime(base + TimeUnit.MINUTES.toNanos(30)));
			assertThat(sooner.timed).as("an earlier deadline needs its own timer").isTrue();
			assertThat(sooner.withCancel().deadline()).as("and its children inherit it").isEqualTo(sooner.deadline());
		}
	}

	@Test
	void aContextRefusesADeadlineOfAnotherTicker() {
		Deadline fake = Deadline.after(Duration.ofSeconds(1), this.ticker);
		// The timer is the JVM's: other tests' deadlines may come and go between two counts
		// (the timer moves live requests' deadlines into its heap on its own looks), so the
		// refusal must leave the count unchanged in one of a few tries, not in the first.
		boolean unchanged = false;
		for (int attempt = 0; attempt < 5 && !unchanged; attempt++) {
			int timersBefore = DeadlineTimer.pending();
			assertThatIllegalArgumentException().isThrownBy(() -> RequestContext.root().withDeadline(fake))
				.withMessageContaining("Deadline.Ticker.system()");
			try (CancellableContext parent = RequestContext.root().withCancel()) {
				assertThatIllegalArgumentException()
					.isThrownBy(() -> Contexts.newChild(parent, ContextKind.SCOPE, "fake", fake));
				assertThat(parent.children()).as("nothing was linked").isEmpty();
			}
			unchanged = DeadlineTimer.pending() == timersBefore;
		}
		assertThat(unchanged).as("nothing was scheduled").isTrue();
	}

	/** A ticker that moves only when told. */
	static final class FakeTicker implements Deadline.Ticker {

		private long now;

		FakeTicker(long start) {
			this.now = start;
		}

		@Override
		public long nanoTime() {
			return this.now;
		}

		void advance(Duration duration) {
			this.now += duration.toNanos();
		}

		@Override
		public String toString() {
			return "FakeTicker[" + this.now + "]";
		}

	}

}
