package dev.reqctx.spi;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The most recent work that outlived its request, in a bounded ring buffer: what the actuator
 * endpoint lists under {@code leaks}. One per {@link dev.reqctx.ContextRuntime}, so two
 * applications in one JVM keep separate histories. Recording is O(1) and never blocks on
 * readers for long.
 */
public final class OrphanHistory {

	private final Orphan[] buffer;

	private long written;

	/**
	 * Creates a history that keeps the given number of records.
	 * @param capacity how many records to keep, at least 1
	 */
	public OrphanHistory(int capacity) {
		if (capacity < 1) {
			throw new IllegalArgumentException("capacity must be at least 1, but was " + capacity);
		}
		this.buffer = new Orphan[capacity];
	}

	/**
	 * Returns how many records are kept.
	 * @return the capacity
	 */
	public int capacity() {
		return this.buffer.length;
	}

	/**
	 * Records an orphan.
	 * @param orphan the record
	 */
	public synchronized void record(Orphan orphan) {
		this.buffer[(int) (this.written++ % this.buffer.length)] = orphan;
	}

	/**
	 * Returns the recorded orphans, newest first.
	 * @return a copy of the records
	 */
	public synchronized List<Orphan> recent() {
		Orphan[] b = this.buffer;
		int count = (int) Math.min(this.written, b.length);
		List<Orphan> result = new ArrayList<>(count);
		for (long i = this.written - 1; i >= this.written - count; i--) {
			result.add(b[(int) (i % b.length)]);
		}
		return result;
	}

	/**
	 * Returns how many orphans were recorded since this history was created.
	 * @return the count
	 */
	public synchronized long count() {
		return this.written;
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
	public record Orphan(String contextId, String name, String requestId, String request, String state,
			String action, long ageMs, Instant detectedAt, List<String> forkedAt) {
	}

}
