package dev.reqctx.spi;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;

/**
 * Told when a root context of a runtime (a request, a job, a message) is cancelled by a failure
 * (a deadline, a cancel, a lost client), at the moment of the cancel and on the thread that
 * cancelled it, before its listeners and operations are cancelled.
 *
 * <p>One listener for the whole runtime instead of one {@code onCancel} listener per root: an
 * integration that only acts when a request fails (the tracing one tags the request's span) then
 * costs nothing on the requests that succeed. Register it with
 * {@link Contexts#addRootFailureListener(dev.reqctx.ContextRuntime, RootFailureListener)}.
 * It must be quick and must not block: it runs inside the cancel.
 */
@FunctionalInterface
public interface RootFailureListener {

	/**
	 * Called once when a root is cancelled with a {@linkplain CancellationCause#isFailure() failure}.
	 * @param root the root context, already cancelled
	 * @param cause why it was cancelled
	 */
	void rootFailed(CancellableContext root, CancellationCause cause);

}
