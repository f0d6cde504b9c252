package dev.reqctx.spi;

import java.util.List;
import java.util.Map;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextKey;
import dev.reqctx.ContextKind;

/**
 * A point-in-time copy of a {@link CancellableContext} and its descendants, for display (the live
 * tree of the actuator endpoint).
 *
 * @param id the context id
 * @param kind what the context stands for
 * @param label its label (a {@link RequestInfo} for a request), may be {@code null}
 * @param ageMillis how long it has existed
 * @param remainingMillis time left before its deadline, {@code null} if it has none
 * @param cancellation why it was cancelled, {@code null} while active
 * @param thread the thread running its work, may be {@code null}
 * @param values its values, unmasked: mask them before showing
 * @param children its child contexts
 * @param operations its operations in flight
 */
public record ContextTree(String id, ContextKind kind, Object label, long ageMillis, Long remainingMillis,
		CancellationCause cancellation, String thread, Map<ContextKey<?>, Object> values,
		List<ContextTree> children, List<OperationView> operations) {

	/**
	 * A point-in-time copy of an {@link Operation}.
	 *
	 * @param kind the kind of operation
	 * @param description what it does
	 * @param ageMillis how long it has run
	 * @param thread the thread that started it
	 * @param cancelling whether its context asked it to stop
	 */
	public record OperationView(String kind, String description, long ageMillis, String thread,
			boolean cancelling) {
	}

}
