package dev.reqctx;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A piece of work in flight under a context (a SQL statement, an outbound HTTP exchange) that
 * knows how to stop itself. It shows as a child in the live tree while it runs, and its cancel
 * action runs if the context is cancelled before the operation is {@linkplain #close() closed}.
 *
 * <p>Integrations open one per call and close it in a {@code finally} block:
 *
 * <pre>
 * try (Operation op = RequestContext.current().startOperation("jdbc", sql, cause -&gt; cancelStatement())) {
 *     return statement.executeQuery();
 * }
 * </pre>
 */
public final class Operation extends CancelNode implements Registration {

	/** An operation that is not tracked, for work outside any cancellable context. */
	static final Operation UNTRACKED = new Operation("none", "", null);

	private final String kind;

	private final String description;

	private final long startNanos;

	private final String threadName;

	private final Consumer<CancellationCause> onCancel;

	private volatile long cancelSignalNanos;

	Operation(String kind, String description, Consumer<CancellationCause> onCancel) {
		this.kind = kind;
		this.description = description;
		this.onCancel = onCancel;
		this.startNanos = System.nanoTime();
		this.threadName = Thread.currentThread().getName();
	}

	@Override
	void fire(CancellationCause cause) {
		this.cancelSignalNanos = System.nanoTime();
		if (this.onCancel != null) {
			this.onCancel.accept(cause);
		}
	}

	/**
	 * Ends the operation: it leaves the tree and its cancel action will not run any more.
	 * @return {@code true} if the cancel action never ran
	 */
	@Override
	public boolean remove() {
		return unlink();
	}

	/**
	 * Returns whether the context cancelled this operation (its cancel action ran).
	 * @return {@code true} once the cancel action started
	 */
	public boolean wasCancelled() {
		return hasFired();
	}

	/**
	 * Returns when the cancel signal reached this operation, as a {@link System#nanoTime()}
	 * value, so integrations can measure how long the operation took to stop.
	 * @return the signal time, or {@code 0} if it was never cancelled
	 */
	public long cancelSignalNanos() {
		return this.cancelSignalNanos;
	}

	/**
	 * Returns the kind of operation ({@code "jdbc"}, {@code "http"}).
	 * @return the kind
	 */
	public String kind() {
		return this.kind;
	}

	/**
	 * Returns what the operation does, safe to show an operator (no bind values, no query
	 * strings).
	 * @return the description
	 */
	public String description() {
		return this.description;
	}

	/**
	 * Returns how long the operation has run.
	 * @return the age in milliseconds
	 */
	public long ageMillis() {
		return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - this.startNanos);
	}

	/**
	 * Returns the name of the thread that started the operation.
	 * @return the thread name
	 */
	public String threadName() {
		return this.threadName;
	}

}
