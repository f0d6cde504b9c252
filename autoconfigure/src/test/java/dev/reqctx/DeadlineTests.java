package dev.reqctx;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link Deadline}.
 */
class DeadlineTests {

	@Test
	void remainingShrinksAndNeverGoesNegative() {
		Deadline past = Deadline.after(Duration.ofMillis(-10));
		assertThat(past.isExpired()).isTrue();
		assertThat(past.remaining()).isEqualTo(Duration.ZERO);
		Deadline future = Deadline.after(1, TimeUnit.MINUTES);
		assertThat(future.isExpired()).isFalse();
		assertThat(future.remaining()).isLessThanOrEqualTo(Duration.ofMinutes(1)).isGreaterThan(Duration.ofSeconds(59));
	}

	@Test
	void hugeDurationsSaturateInsteadOfOverflowing() {
		Deadline far = Deadline.after(Duration.ofSeconds(Long.MAX_VALUE));
		assertThat(far.isExpired()).isFalse();
		assertThat(Deadline.after(Duration.ofSeconds(Long.MIN_VALUE)).isExpired()).isTrue();
	}

	@Test
	void theEarliestOfTwoDeadlinesWins() {
		Deadline soon = Deadline.after(Duration.ofSeconds(1));
		Deadline later = Deadline.after(Duration.ofSeconds(2));
		assertThat(soon.earliest(later)).isSameAs(soon);
		assertThat(later.earliest(soon)).isSameAs(soon);
		assertThat(soon.earliest(null)).isSameAs(soon);
		assertThat(soon.isBefore(later)).isTrue();
		assertThat(soon).isLessThan(later);
	}

}
