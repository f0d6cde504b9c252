package dev.reqctx;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A point in time on a monotonic clock by which work must be done.
 *
 * <p>Deadlines never use the wall clock, so they are immune to clock adjustments; they are also
 * meaningless outside this JVM. To send a deadline to another process, send the
 * {@linkplain #remaining() remaining} time instead (reqctx does this with the
 * {@code Request-Timeout-Ms} header).
 *
 * <p>A deadline reads time from its {@link Ticker}, {@link Ticker#system() the system ticker}
 * ({@link System#nanoTime()}) unless it was created with another one. A fake ticker makes code
 * that computes with deadlines testable without waiting:
 *
 * <pre>
 * long[] now = { 0 };
 * Deadline.Ticker ticker = () -&gt; now[0];
 * Deadline deadline = Deadline.after(Duration.ofMillis(100), ticker);
 * now[0] += TimeUnit.MILLISECONDS.toNanos(100);
 * assertThat(deadline.isExpired()).isTrue();
 * </pre>
 *
 * <p>Contexts take only deadlines of the system ticker: their timer fires on the system clock
 * (see {@link RequestContext#withDeadline(Deadline)}).
 */
public final class Deadline implements Comparable<Deadline> {

	/** The largest offset from now (~146 years): half a long's range, so two offsets' difference fits. */
	private static final long MAX_NANOS = Long.MAX_VALUE / 2;

	private static final Ticker SYSTEM = new SystemTicker();

	private final long nanoTime;

	private final Ticker ticker;

	private Deadline(long nanoTime, Ticker ticker) {
		this.nanoTime = nanoTime;
		this.ticker = ticker;
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

	/**
	 * Returns a deadline the given duration after the ticker's present time, read from that
	 * ticker from now on. Negative durations give an expired deadline; huge ones saturate.
	 * @param duration how long from now
	 * @param ticker the clock the deadline reads
	 * @return the deadline
	 */
	public static Deadline after(Duration duration, Ticker ticker) {
		return afterNanos(ticker, saturatedNanos(duration));
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
	 * Returns a deadline the given amount of time after the ticker's present time, read from
	 * that ticker from now on.
	 * @param amount how long from now
	 * @param unit the unit of {@code amount}
	 * @param ticker the clock the deadline reads
	 * @return the deadline
	 */
	public static Deadline after(long amount, TimeUnit unit, Ticker ticker) {
		return afterNanos(ticker, unit.toNanos(amount));
	}

	/**
	 * Returns a deadline at the given value of {@link System#nanoTime()}.
	 * @param nanoTime a value of {@code System.nanoTime()}
	 * @return the deadline
	 */
	public static Deadline atNanoTime(long nanoTime) {
		return new Deadline(nanoTime, SYSTEM);
	}

	static Deadline afterNanos(long nanos) {
		return afterNanos(System.nanoTime(), nanos);
	}

	/** Returns the deadline {@code nanos} after {@code now} (a value of {@code System.nanoTime()}). */
	static Deadline afterNanos(long now, long nanos) {
		return new Deadline(now + clamp(nanos), SYSTEM);
	}

	private static Deadline afterNanos(Ticker ticker, long nanos) {
		Objects.requireNonNull(ticker, "ticker must not be null");
		return new Deadline(ticker.nanoTime() + clamp(nanos), ticker);
	}

	/**
	 * Keeps an offset within half the range of a {@code long}. The sum with the present time
	 * may still wrap around (a ticker may start anywhere), which is harmless: every comparison
	 * and every remaining time is a difference, and differences come out right modulo 2^64.
	 */
	private static long clamp(long nanos) {
		return Math.max(-MAX_NANOS, Math.min(MAX_NANOS, nanos));
	}

	/**
	 * Returns this deadline as a value of its ticker's {@link Ticker#nanoTime()}
	 * ({@link System#nanoTime()} for the system ticker).
	 * @return the monotonic time of this deadline
	 */
	public long nanoTime() {
		return this.nanoTime;
	}

	/**
	 * Returns the wall-clock time of this deadline, in milliseconds since the epoch, for logs and
	 * displays: the monotonic deadline plus the offset between {@link System#currentTimeMillis()}
	 * and {@link System#nanoTime()}, which the deadline timer's thread reads again every time it
	 * looks (at least every 100 ms while anything is pending), so no clock is read here. A step of
	 * the wall clock shows within that time; values are within a millisecond of reading both
	 * clocks now.
	 * @return the deadline in epoch milliseconds (only meaningful for the system ticker)
	 */
	public long epochMillis() {
		return Math.floorDiv(this.nanoTime + WallClock.offsetNanos, 1_000_000L);
	}

	/** The offset from {@code System.nanoTime()} to the wall clock, in nanoseconds. */
	static final class WallClock {

		static volatile long offsetNanos = read();

		private WallClock() {
		}

		static void refresh() {
			offsetNanos = read();
		}

		private static long read() {
			return System.currentTimeMillis() * 1_000_000L - System.nanoTime();
		}

	}

	/**
	 * Returns the clock this deadline reads.
	 * @return the ticker, {@link Ticker#system()} unless the deadline was created with another
	 */
	public Ticker ticker() {
		return this.ticker;
	}

	/**
	 * Returns the time left, in nanoseconds; zero or negative once expired.
	 * @return nanoseconds until the deadline
	 */
	public long remainingNanos() {
		return this.nanoTime - now();
	}

	private long now() {
		// Every statement and outbound call reads this: test the system ticker by identity and
		// call System.nanoTime() directly, so the common case costs a compare, not a call that
		// the JIT can inline only while no other ticker has been seen.
		Ticker t = this.ticker;
		return (t == SYSTEM) ? System.nanoTime() : t.nanoTime();
	}

	boolean isSystem() {
		return this.ticker == SYSTEM;
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
	 * @param other another deadline, of the same ticker
	 * @return {@code true} if this one is strictly earlier
	 * @throws IllegalArgumentException if the other deadline reads another ticker
	 */
	public boolean isBefore(Deadline other) {
		checkTicker(other);
		// Compare by difference: nanoTime values may wrap around.
		return this.nanoTime - other.nanoTime < 0;
	}

	/**
	 * Returns the earlier of this deadline and the other one.
	 * @param other another deadline of the same ticker, may be {@code null} (meaning none)
	 * @return the earlier deadline
	 * @throws IllegalArgumentException if the other deadline reads another ticker
	 */
	public Deadline earliest(Deadline other) {
		return (other == null || !other.isBefore(this)) ? this : other;
	}

	/**
	 * Compares by time on the shared ticker.
	 * @param other another deadline, of the same ticker
	 * @return negative, zero or positive as this deadline is earlier than, at, or later than the
	 * other
	 * @throws IllegalArgumentException if the other deadline reads another ticker: two clocks
	 * share no origin, so their times cannot be ordered
	 */
	@Override
	public int compareTo(Deadline other) {
		checkTicker(other);
		return Long.signum(this.nanoTime - other.nanoTime);
	}

	private void checkTicker(Deadline other) {
		if (other.ticker != this.ticker) {
			throw new IllegalArgumentException("Cannot compare deadlines of different tickers: " + this.ticker
					+ " and " + other.ticker);
		}
	}

	@Override
	public boolean equals(Object obj) {
		return (obj instanceof Deadline other) && other.nanoTime == this.nanoTime && other.ticker == this.ticker;
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

	/**
	 * A source of monotonic time for deadlines: the seam that makes deadline arithmetic testable
	 * without waiting. Values only make sense as differences between two reads of the same
	 * ticker, as with {@link System#nanoTime()}.
	 */
	@FunctionalInterface
	public interface Ticker {

		/**
		 * Returns the ticker of {@link System#nanoTime()}, the one deadlines use unless told
		 * otherwise and the only one contexts accept.
		 * @return the system ticker
		 */
		static Ticker system() {
			return SYSTEM;
		}

		/**
		 * Returns the present time of this ticker.
		 * @return nanoseconds from an arbitrary origin, never decreasing
		 */
		long nanoTime();

	}

	private static final class SystemTicker implements Ticker {

		@Override
		public long nanoTime() {
			return System.nanoTime();
		}

		@Override
		public String toString() {
			return "Ticker[system]";
		}

	}

}
