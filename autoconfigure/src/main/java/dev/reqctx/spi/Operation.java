package dev.reqctx.spi;

import dev.reqctx.Registration;

/**
 * A piece of work in flight under a context (a SQL statement, an outbound HTTP exchange) that
 * knows how to stop itself. It shows as a child in the live tree while it runs, and its cancel
 * action runs if the context is cancelled before the operation is {@linkplain #close() closed}.
 *
 * <p>Integrations open one per call with
 * {@link Contexts#startOperation(dev.reqctx.RequestContext, String, String, java.util.function.Consumer)}
 * and close it in a {@code finally} block:
 *
 * <pre>
 * try (Operation op = Contexts.startOperation(RequestContext.current(), "jdbc", sql, cause -&gt; cancelStatement())) {
 *     return statement.executeQuery();
 * }
 * </pre>
 */
public interface Operation extends Registration {

	/**
	 * The operation of work outside any cancellable context: never cancelled, never in a tree,
	 * and stateless, so every caller sees the same answers however often it is used.
	 */
	Operation UNTRACKED = new Operation() {

		@Override
		public boolean remove() {
			return true;
		}

		@Override
		public boolean wasCancelled() {
			return false;
		}

		@Override
		public long cancelSignalNanos() {
			return 0;
		}

		@Override
		public String kind() {
			return "none";
		}

		@Override
		public String description() {
			return "";
		}

		@Override
		public long ageMillis() {
			return 0;
		}

		@Override
		public String threadName() {
			return "";
		}

		@Override
		public String toString() {
			return "Operation.UNTRACKED";
		}

	};

	/**
	 * Ends the operation: it leaves the tree and its cancel action will not run any more.
	 * @return {@code true} if the cancel action never ran
	 */
	@Override
	boolean remove();

	/**
	 * Returns whether the context cancelled this operation (its cancel action ran).
	 * @return {@code true} once the cancel action started
	 */
	boolean wasCancelled();

	/**
	 * Returns when the cancel signal reached this operation, as a {@link System#nanoTime()}
	 * value, so integrations can measure how long the operation took to stop.
	 * @return the signal time, or {@code 0} if it was never cancelled
	 */
	long cancelSignalNanos();

	/**
	 * Returns the kind of operation ({@code "jdbc"}, {@code "http"}).
	 * @return the kind
	 */
	String kind();

	/**
	 * Returns what the operation does, safe to show an operator (no bind values, no query
	 * strings).
	 * @return the description
	 */
	String description();

	/**
	 * Returns how long the operation has run.
	 * @return the age in milliseconds
	 */
	long ageMillis();

	/**
	 * Returns the name of the thread that started the operation.
	 * @return the thread name
	 */
	String threadName();

}
