package dev.reqctx.benchmarks.load;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Percentiles of a list of latencies in nanoseconds, printed in milliseconds.
 */
final class Stats {

	private final long[] sorted;

	Stats(List<Long> nanos) {
		this.sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
	}

	int count() {
		return this.sorted.length;
	}

	/** The nearest-rank percentile, in nanoseconds; {@code NaN} as -1 when empty. */
	long percentile(double p) {
		if (this.sorted.length == 0) {
			return -1;
		}
		int rank = (int) Math.ceil(p / 100.0 * this.sorted.length);
		return this.sorted[Math.max(0, Math.min(this.sorted.length - 1, rank - 1))];
	}

	long max() {
		return (this.sorted.length > 0) ? this.sorted[this.sorted.length - 1] : -1;
	}

	static String ms(long nanos) {
		return (nanos < 0) ? "-" : String.format(Locale.ROOT, "%.2f", nanos / 1e6);
	}

	/** {@code p50 / p99 / max} in milliseconds. */
	String summary() {
		return ms(percentile(50)) + " / " + ms(percentile(99)) + " / " + ms(max());
	}

	@Override
	public String toString() {
		return String.format(Locale.ROOT, "n=%d p50=%s p99=%s max=%s ms", count(), ms(percentile(50)),
				ms(percentile(99)), ms(max()));
	}

	static String load() {
		try {
			return Arrays.toString(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg"))
				.trim()
				.split(" ", 4))
				.replaceAll("[\\[\\],]", "")
				.replaceAll(" \\S+$", "");
		}
		catch (java.io.IOException ex) {
			return "?";
		}
	}

}
