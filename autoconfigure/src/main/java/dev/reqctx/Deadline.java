package dev.reqctx;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A point in time on the monotonic clock ({@link System#nanoTime()}) by which work must be done.
 *
 * <p>Deadlines never use the wall clock, so they are immune to clock adjustments; they are also
 * meaningless outside this JVM. To send a deadline to another process, send the
 * {@linkplain #remaining() remaining} time instead (reqctx does this with the
 * {@code Request-Timeout-Ms} header).
 */
public final class Deadline implements Comparable<Deadline> {

	/** Far enough that {@code now + MAX} cannot overflow in practice (~146 years). */
	private static final long MAX_NANOS = Long.MAX_VALUE / 2;

	private final long nanoTime;

	private Deadline(long nanoTime) {
		this.nanoTime = nanoTime;
	}

	/**
	 * Returns a deadline the given duration from now. Negative durations give an expired
	 * deadline; huge ones saturate rather than overflow.
	 * @param duration how long from now
	 * @return the deadline
	 */
	public static Deadline after(Duration duration) {
		return afterNanos(saturatedNanos(duration));
	}

	/** Returns the duration in nanoseconds, saturated instead of overflowing. */
	static long saturatedNanos(Duration duration) {
		try {
			return duration.toNanos();
		}
		catch (ArithmeticException ex) {
			return duration.isNegative() ? -MAX_NANOS : MAX_NANOS;
		}
	}

	/**
	 * Returns a deadline the given amount of time from now.
	 * @param amount how long from now
	 * @param unit the unit of {@code amount}
	 * @return the deadline
	 */
	public static Deadline after(long amount, TimeUnit unit) {
		return afterNanos(unit.toNanos(amount));
	}

	/**
	 * Returns a deadline at the given value of {@link System#nanoTime()}.
	 * @param nanoTime a value of {@code System.nanoTime()}
	 * @return the deadline
	 */
	public static Deadline atNanoTime(long nanoTime) {
		return new Deadline(nanoTime);
	}

	static Deadline afterNanos(long nanos) {
		return afterNanos(System.nanoTime(), nanos);
	}

	/** Returns the deadline {@code nanos} after {@code now} (a value of {@code System.nanoTime()}). */
	static Deadline afterNanos(long now, long nanos) {
		long clamped = Math.max(-MAX_NANOS, Math.min(MAX_NANOS, nanos));
		return new Deadline(now + clamped);
	}

	/**
	 * Returns this deadline as a value of {@link System#nanoTime()}.
	 * @return the monotonic time of this deadline
	 */
	public long nanoTime() {
		return this.nanoTime;
	}

	/**
	 * Returns the time left, in nanoseconds; zero or negative once expired.
	 * @return nanoseconds until the deadline
	 */
	public long remainingNanos() {
		return this.nanoTime - System.nanoTime();
	}

	/**
	 * Returns the time left, never negative.
	 * @return the time until the deadline, or {@link Duration#ZERO} once expired
	 */
	public Duration remaining() {
		return Duration.ofNanos(Math.max(0, remainingNanos()));
	}

	/**
	 * Returns whether the deadline has passed.
	 * @return {@code true} once the deadline has passed
	 */
	public boolean isExpired() {
		return remainingNanos() <= 0;
	}

	/**
	 * Returns whether this deadline comes before the other one.
	 * @param other another deadline
	 * @return {@code true} if this one is strictly earlier
	 */
	public boolean isBefore(Deadline other) {
		// Compare by difference: nanoTime values may wrap around.
		return this.nanoTime - other.nanoTime < 0;
	}

	/**
	 * Returns the earlier of this deadline and the other one.
	 * @param other another deadline, may be {@code null} (meaning none)
	 * @return the earlier deadline
	 */
	public Deadline earliest(Deadline other) {
		return (other == null || !other.isBefore(this)) ? this : other;
	}

	@Override
	public int compareTo(Deadline other) {
		return Long.signum(this.nanoTime - other.nanoTime);
	}

	@Override
	public boolean equals(Object obj) {
		return (obj instanceof Deadline other) && other.nanoTime == this.nanoTime;
	}

	@Override
	public int hashCode() {
		return Long.hashCode(this.nanoTime);
	}

	@Override
	public String toString() {
		long ms = TimeUnit.NANOSECONDS.toMillis(remainingNanos());
		return (ms >= 0) ? "Deadline[" + ms + " ms from now]" : "Deadline[" + (-ms) + " ms ago]";
	}

}
