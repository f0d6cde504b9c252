package dev.reqctx;

import java.util.concurrent.TimeUnit;

/**
 * Thrown when work stops because its {@link RequestContext} was cancelled.
 *
 * <p>The message names the context, the cause and how long the context had been running, for
 * example {@code "Request context 5f3a0c1 was cancelled (CANCELLED) after 1200 ms"}. The web
 * integration answers such failures with {@code 503 Service Unavailable} (or {@code 504} for a
 * {@link DeadlineExceededException}) instead of {@code 500}.
 */
public class ContextCancelledException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	private final String contextId;

	private final CancellationCause cancellationCause;

	private final long elapsedNanos;

	/**
	 * Creates a new exception.
	 * @param contextId the id of the cancelled context
	 * @param cause why it was cancelled
	 * @param elapsedNanos how long the context ran before it was cancelled
	 */
	public ContextCancelledException(String contextId, CancellationCause cause, long elapsedNanos) {
		this(contextId, cause, elapsedNanos, null);
	}

	/**
	 * Creates a new exception that wraps the failure it caused (a cancelled SQL statement, an
	 * aborted exchange).
	 * @param contextId the id of the cancelled context
	 * @param cause why it was cancelled
	 * @param elapsedNanos how long the context ran before it was cancelled
	 * @param failure the failure that the cancellation caused, may be {@code null}
	 */
	public ContextCancelledException(String contextId, CancellationCause cause, long elapsedNanos,
			Throwable failure) {
		super(message(contextId, cause, elapsedNanos), failure);
		this.contextId = contextId;
		this.cancellationCause = cause;
		this.elapsedNanos = elapsedNanos;
	}

	private static String message(String contextId, CancellationCause cause, long elapsedNanos) {
		String message = "Request context " + contextId + " was cancelled (" + cause + ")";
		return (elapsedNanos >= 0) ? message + " after " + TimeUnit.NANOSECONDS.toMillis(elapsedNanos) + " ms"
				: message;
	}

	/**
	 * Creates the exception that fits the cause: a {@link DeadlineExceededException} for
	 * {@link CancellationCause#DEADLINE_EXCEEDED}, a {@code ContextCancelledException}
	 * otherwise.
	 * @param contextId the id of the cancelled context
	 * @param cause why it was cancelled
	 * @param elapsedNanos how long the context ran before it was cancelled
	 * @param failure the failure that the cancellation caused, may be {@code null}
	 * @return the exception
	 */
	static ContextCancelledException of(String contextId, CancellationCause cause, long elapsedNanos,
			Throwable failure) {
		return (cause == CancellationCause.DEADLINE_EXCEEDED)
				? new DeadlineExceededException(contextId, elapsedNanos, failure)
				: new ContextCancelledException(contextId, cause, elapsedNanos, failure);
	}

	/**
	 * Finds a {@code ContextCancelledException} in the cause chain of the given throwable.
	 * @param throwable any throwable, may be {@code null}
	 * @return the first one found, or {@code null}
	 */
	public static ContextCancelledException findIn(Throwable throwable) {
		Throwable current = throwable;
		for (int depth = 0; current != null && depth < 32; depth++) {
			if (current instanceof ContextCancelledException cancelled) {
				return cancelled;
			}
			current = current.getCause();
		}
		return null;
	}

	/**
	 * Returns the id of the context that was cancelled.
	 * @return the context id
	 */
	public String getContextId() {
		return this.contextId;
	}

	/**
	 * Returns why the context was cancelled.
	 * @return the cancellation cause
	 */
	public CancellationCause getCancellationCause() {
		return this.cancellationCause;
	}

	/**
	 * Returns how long the context had run when it was cancelled, in milliseconds.
	 * @return the elapsed time in milliseconds, negative if not known (a scope made with
	 * {@code withCancel()} on the root records no start)
	 */
	public long getElapsedMillis() {
		return (this.elapsedNanos < 0) ? -1 : TimeUnit.NANOSECONDS.toMillis(this.elapsedNanos);
	}

}
