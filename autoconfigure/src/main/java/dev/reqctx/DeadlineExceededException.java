package dev.reqctx;

/**
 * Thrown when work stops because its {@link RequestContext}'s deadline passed.
 */
public class DeadlineExceededException extends ContextCancelledException {

	private static final long serialVersionUID = 1L;

	/**
	 * Creates a new exception.
	 * @param contextId the id of the context whose deadline passed
	 * @param elapsedNanos how long the context ran before its deadline passed
	 * @param failure the failure that the cancellation caused, may be {@code null}
	 */
	public DeadlineExceededException(String contextId, long elapsedNanos, Throwable failure) {
		super(contextId, CancellationCause.DEADLINE_EXCEEDED, elapsedNanos, failure);
	}

}
