package dev.reqctx.spi;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;

/**
 * Receives the events that reqctx integrations report: requests finishing, operations starting
 * and being cancelled, bad budget headers, orphaned tasks. The actuator module turns them into
 * Micrometer meters; integrations hold a {@code ContextObserver} and call it on their hot paths,
 * so implementations must be fast and must not throw.
 *
 * <p>Every method has an empty default, so {@link #NONE} observes nothing.
 */
public interface ContextObserver {

	/** An observer that ignores every event. */
	ContextObserver NONE = new ContextObserver() {
	};

	/**
	 * A request's context was created and registered.
	 * @param request the request's root context
	 */
	default void requestStarted(CancellableContext request) {
	}

	/**
	 * A request finished.
	 * @param request the request's root context
	 * @param route the route template (bounded cardinality), or {@code null} if unknown
	 * @param outcome how it ended: {@link CancellationCause#COMPLETED} for a normal end,
	 * otherwise the cause that cancelled it first
	 */
	default void requestFinished(CancellableContext request, String route, CancellationCause outcome) {
	}

	/**
	 * A unit of work other than a request (a scheduled job, a listener's message, work started
	 * with {@link dev.reqctx.ContextRuntime#work(String)}) ended.
	 * @param root the unit's root context; its {@link CancellableContext#kind() kind} says what
	 * it was
	 * @param name the unit's name (bounded cardinality, like a route)
	 * @param outcome how it ended: {@link CancellationCause#COMPLETED} for a normal end,
	 * otherwise the cause that cancelled it first
	 */
	default void workFinished(CancellableContext root, String name, CancellationCause outcome) {
	}

	/**
	 * A request arrived with a budget header that could not be used.
	 * @param reason a short, bounded reason ({@code "malformed"}, {@code "negative"},
	 * {@code "too-long"}, {@code "repeated"}, {@code "overflow"})
	 */
	default void invalidBudget(String reason) {
	}

	/**
	 * An operation started under a context with a deadline.
	 * @param operation {@code "jdbc"}, {@code "http"} or {@code "task"}
	 * @param remainingNanos the budget left when it started
	 */
	default void operationStarted(String operation, long remainingNanos) {
	}

	/**
	 * An operation was stopped by its context's cancellation and has returned control.
	 * @param operation {@code "jdbc"}, {@code "http"} or {@code "task"}
	 * @param cause the cancellation cause
	 * @param latencyNanos from the cancel signal to the operation returning control
	 */
	default void operationCancelled(String operation, CancellationCause cause, long latencyNanos) {
	}

	/**
	 * An operation ran on a thread with no context while requests were in flight (see
	 * {@link UnboundOperations}).
	 * @param operation {@code "jdbc"} or {@code "http"}
	 */
	default void operationUnbound(String operation) {
	}

	/**
	 * An operation or task still ran when the straggler threshold passed after its root was
	 * cancelled (see {@link CancellationHistory}).
	 * @param operation {@code "jdbc"}, {@code "http"} or {@code "task"}
	 */
	default void cancelStraggler(String operation) {
	}

	/**
	 * A task outlived the request that started it.
	 * @param task the task's context
	 */
	default void taskOrphaned(CancellableContext task) {
	}

}
