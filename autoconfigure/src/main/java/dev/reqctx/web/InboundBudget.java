package dev.reqctx.web;

import java.util.Enumeration;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Reads the caller's remaining budget from the request headers.
 *
 * <p>Bad input never raises a budget: every malformed value is reported as invalid, with a short
 * bounded reason, and the caller decides whether to ignore it or answer 400. The result is a
 * {@code long} (nanoseconds, or a negative code) so the common path allocates nothing.
 */
final class InboundBudget {

	/** No budget header was sent. */
	static final long ABSENT = -1;

	/** The budget Envoy sends upstream: the route's timeout, in milliseconds. */
	static final String ENVOY_HEADER = "x-envoy-expected-rq-timeout-ms";

	/** Longest header value worth parsing; anything longer is rejected before parsing. */
	private static final int MAX_LENGTH = 19;

	/** Largest millisecond value accepted before it is called an overflow (~292 years). */
	private static final long MAX_MILLIS = TimeUnit.NANOSECONDS.toMillis(Long.MAX_VALUE);

	private InboundBudget() {
	}

	/**
	 * Reads the budget.
	 * @return the budget in nanoseconds (&gt;= 0), {@link #ABSENT}, or a value for which
	 * {@link #isInvalid(long)} holds
	 */
	static long read(HttpServletRequest request, String header, boolean acceptGrpc, boolean acceptEnvoy) {
		long budget = readHeader(request, header, false);
		if (acceptEnvoy) {
			budget = shortest(budget, readHeader(request, ENVOY_HEADER, false));
		}
		if (acceptGrpc) {
			budget = shortest(budget, readHeader(request, "grpc-timeout", true));
		}
		return budget;
	}

	/**
	 * Of two budgets the shorter. A valid budget wins over an invalid one, so that a malformed
	 * header next to a good one never raises the deadline; an invalid one is reported only when
	 * no header gave a valid budget.
	 */
	static long shortest(long a, long b) {
		boolean aValid = a >= 0;
		boolean bValid = b >= 0;
		if (aValid && bValid) {
			return Math.min(a, b);
		}
		if (aValid || bValid) {
			return aValid ? a : b;
		}
		return isInvalid(a) ? a : b; // both absent or invalid: report the first invalid one
	}

	private static long readHeader(HttpServletRequest request, String header, boolean grpc) {
		String value = request.getHeader(header);
		if (value == null) {
			return ABSENT;
		}
		Enumeration<String> all = request.getHeaders(header);
		if (all != null && all.hasMoreElements()) {
			all.nextElement();
			if (all.hasMoreElements()) {
				return Reason.REPEATED.code;
			}
		}
		return grpc ? parseGrpc(value) : parseMillis(value);
	}

	/** Parses a non-negative decimal number of milliseconds. */
	static long parseMillis(String value) {
		int length = value.length();
		if (length == 0) {
			return Reason.MALFORMED.code;
		}
		if (length > MAX_LENGTH) {
			return Reason.TOO_LONG.code;
		}
		if (value.charAt(0) == '-') {
			return (length > 1 && allDigits(value, 1, length)) ? Reason.NEGATIVE.code : Reason.MALFORMED.code;
		}
		if (!allDigits(value, 0, length)) {
			return Reason.MALFORMED.code;
		}
		long millis = 0;
		for (int i = 0; i < length; i++) {
			millis = millis * 10 + (value.charAt(i) - '0');
			if (millis > MAX_MILLIS) {
				return Reason.OVERFLOW.code;
			}
		}
		return TimeUnit.MILLISECONDS.toNanos(millis);
	}

	/** Parses gRPC's "TimeoutValue TimeoutUnit": at most 8 digits and one of H M S m u n. */
	static long parseGrpc(String value) {
		int length = value.length();
		if (length < 2) {
			return Reason.MALFORMED.code;
		}
		if (length > 9) {
			return Reason.TOO_LONG.code;
		}
		if (!allDigits(value, 0, length - 1)) {
			return (value.charAt(0) == '-') ? Reason.NEGATIVE.code : Reason.MALFORMED.code;
		}
		long amount = Long.parseLong(value, 0, length - 1, 10);
		TimeUnit unit = switch (value.charAt(length - 1)) {
			case 'H' -> TimeUnit.HOURS;
			case 'M' -> TimeUnit.MINUTES;
			case 'S' -> TimeUnit.SECONDS;
			case 'm' -> TimeUnit.MILLISECONDS;
			case 'u' -> TimeUnit.MICROSECONDS;
			case 'n' -> TimeUnit.NANOSECONDS;
			default -> null;
		};
		return (unit != null) ? unit.toNanos(amount) : Reason.MALFORMED.code;
	}

	private static boolean allDigits(String value, int from, int to) {
		for (int i = from; i < to; i++) {
			char c = value.charAt(i);
			if (c < '0' || c > '9') {
				return false;
			}
		}
		return true;
	}

	static boolean isInvalid(long budget) {
		return budget < ABSENT;
	}

	static Reason reason(long budget) {
		for (Reason reason : Reason.values()) {
			if (reason.code == budget) {
				return reason;
			}
		}
		throw new IllegalArgumentException("Not an invalid budget code: " + budget);
	}

	/** Why a budget header was rejected; {@link #tag} is a bounded metric tag value. */
	enum Reason {

		MALFORMED("malformed", "must be a whole number of milliseconds"),

		NEGATIVE("negative", "must not be negative"),

		TOO_LONG("too-long", "is too long to be a budget"),

		OVERFLOW("overflow", "is too large to be a budget"),

		REPEATED("repeated", "must be sent once");

		final String tag;

		final String description;

		final long code;

		Reason(String tag, String description) {
			this.tag = tag;
			this.description = description;
			this.code = -2 - ordinal();
		}

	}

}
