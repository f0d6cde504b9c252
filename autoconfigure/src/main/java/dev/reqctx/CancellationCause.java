package dev.reqctx;

/**
 * Why a {@link RequestContext} was cancelled.
 *
 * <p>The cause is fixed by the first cancellation: later attempts to cancel with another cause
 * are ignored, and every descendant reports its ancestor's cause.
 */
public enum CancellationCause {

	/** The context's deadline passed before the work finished. */
	DEADLINE_EXCEEDED,

	/** The client that sent the request went away (where the container reports it). */
	CLIENT_GONE,

	/** Someone cancelled the context on purpose: application code or an operator. */
	CANCELLED,

	/**
	 * The application is shutting down and the work could not finish within the grace period:
	 * it is stopped shortly before the container would kill it, so it can still answer and give
	 * back its connections.
	 */
	SHUTDOWN,

	/**
	 * The request finished. Work still attached to it (an orphaned task, a statement nobody
	 * waits for) is cancelled with this cause.
	 */
	COMPLETED;

	/**
	 * Whether this cause means the work failed (as opposed to the request ending normally).
	 * @return {@code false} only for {@link #COMPLETED}
	 */
	public boolean isFailure() {
		return this != COMPLETED;
	}

}
