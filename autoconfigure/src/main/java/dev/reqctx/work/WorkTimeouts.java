package dev.reqctx.work;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.regex.Pattern;

/**
 * The deadline of each scheduled job, by job name ({@code SimpleClassName.method}): an exact
 * name wins over a pattern, a longer pattern over a shorter one, and the default applies to the
 * rest. In patterns {@code *} stands for any run of characters ({@code ReportJobs.*},
 * {@code *.purge}).
 */
public final class WorkTimeouts {

	private final Duration defaultTimeout;

	private final List<Entry> entries;

	/** Looked up once per job name; job names are few. */
	private final ConcurrentMap<String, Resolved> resolved = new ConcurrentHashMap<>();

	/**
	 * Creates the timeouts.
	 * @param defaultTimeout the timeout of jobs no entry names, or {@code null} for none
	 * @param timeouts timeouts by job name or pattern
	 */
	public WorkTimeouts(Duration defaultTimeout, Map<String, Duration> timeouts) {
		this.defaultTimeout = defaultTimeout;
		List<Entry> entries = new ArrayList<>();
		timeouts.forEach((pattern, timeout) -> entries.add(new Entry(pattern, Objects.requireNonNull(timeout))));
		// Exact names first, then the longest (most specific) patterns.
		entries.sort(Comparator.comparing((Entry entry) -> entry.pattern.contains("*"))
			.thenComparing(Comparator.comparingInt((Entry entry) -> entry.pattern.length()).reversed()));
		this.entries = List.copyOf(entries);
	}

	/**
	 * Returns the timeout of the named job.
	 * @param job the job's name
	 * @return its timeout, or {@code null} if it has none
	 */
	public Duration timeoutOf(String job) {
		return this.resolved.computeIfAbsent(job, this::resolve).timeout;
	}

	private Resolved resolve(String job) {
		for (Entry entry : this.entries) {
			if (entry.regex.matcher(job).matches()) {
				return new Resolved(entry.timeout);
			}
		}
		return new Resolved(this.defaultTimeout);
	}

	private record Entry(String pattern, Duration timeout, Pattern regex) {

		Entry(String pattern, Duration timeout) {
			this(pattern, timeout, compile(pattern));
		}

		private static Pattern compile(String pattern) {
			String[] parts = pattern.split("\\*", -1);
			StringBuilder regex = new StringBuilder();
			for (int i = 0; i < parts.length; i++) {
				regex.append((i > 0) ? ".*" : "").append(Pattern.quote(parts[i]));
			}
			return Pattern.compile(regex.toString());
		}

	}

	/** A cached lookup result; a map cannot hold {@code null}. */
	private record Resolved(Duration timeout) {
	}

}
