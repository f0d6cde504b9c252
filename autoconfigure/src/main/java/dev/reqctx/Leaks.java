package dev.reqctx;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The most recent work that outlived its request, in a bounded ring buffer: what the actuator
 * endpoint lists under {@code leaks}. Recording is O(1) and never blocks on readers for long.
 */
public final class Leaks {

	private static final int DEFAULT_CAPACITY = 50;

	private static Record[] buffer = new Record[DEFAULT_CAPACITY];

	private static long written;

	private Leaks() {
	}

	/**
	 * Changes how many records are kept; existing records are dropped.
	 * @param capacity the number of records to keep, at least 1
	 */
	public static synchronized void setCapacity(int capacity) {
		if (capacity < 1) {
			throw new IllegalArgumentException("capacity must be at least 1, but was " + capacity);
		}
		buffer = new Record[capacity];
		written = 0;
	}

	/**
	 * Records a leak.
	 * @param record the record
	 */
	public static synchronized void record(Record record) {
		Record[] b = buffer;
		b[(int) (written++ % b.length)] = record;
	}

	/**
	 * Returns the recorded leaks, newest first.
	 * @return a copy of the records
	 */
	public static synchronized List<Record> recent() {
		Record[] b = buffer;
		int count = (int) Math.min(written, b.length);
		List<Record> result = new ArrayList<>(count);
		for (long i = written - 1; i >= written - count; i--) {
			result.add(b[(int) (i % b.length)]);
		}
		return result;
	}

	/**
	 * Returns how many leaks were recorded since the JVM started (or the capacity changed).
	 * @return the count
	 */
	public static synchronized long count() {
		return written;
	}

	/** Drops every record (for tests). */
	public static synchronized void clear() {
		buffer = new Record[buffer.length];
		written = 0;
	}

	/**
	 * One piece of work that outlived its request.
	 *
	 * @param contextId the id of the task's context
	 * @param name the task's name
	 * @param requestId the id of the request it belonged to
	 * @param request the request's method and path
	 * @param state {@code QUEUED} or {@code RUNNING} when the request ended
	 * @param action what was done: {@code CANCELLED} or {@code LEFT_RUNNING}
	 * @param ageMs how long the task had existed when the request ended
	 * @param detectedAt when the request ended
	 * @param forkedAt the stack where the task was submitted, empty unless stacks are captured
	 */
	public record Record(String contextId, String name, String requestId, String request, String state,
			String action, long ageMs, Instant detectedAt, List<String> forkedAt) {
	}

}
