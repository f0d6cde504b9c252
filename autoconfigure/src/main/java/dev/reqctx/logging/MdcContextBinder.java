package dev.reqctx.logging;

import java.util.concurrent.TimeUnit;

import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.ThreadContextBinder;
import org.slf4j.MDC;

/**
 * A {@link ThreadContextBinder} that puts a context's request id, trace id and deadline in the
 * SLF4J {@link MDC} while the context runs on a thread, so every log line can say which request
 * it belongs to and how much time that request had left.
 *
 * <p>Keys (absent when the context has no such value):
 * <ul>
 * <li>{@value #REQUEST_ID}: the request id;
 * <li>{@value #TRACE_ID}: the trace id of the request's span, when a tracer is present. A
 * tracer's own {@code traceId} MDC entry only exists where the tracer's scope is open; this one
 * follows the request into every task reqctx runs;
 * <li>{@value #DEADLINE}: the deadline as epoch milliseconds. An MDC value is fixed when it is
 * set, while the time left shrinks with every line; an absolute deadline stays true for the
 * whole request, and the budget left when a line was written is this value minus the line's
 * timestamp. It is derived from the monotonic deadline when bound, so two bindings of one
 * request may differ by a millisecond.
 * </ul>
 *
 * <p>Restoring puts back exactly what the thread had before the binding (values set by an
 * enclosing binding, or by the application), not just removes the keys.
 */
public final class MdcContextBinder implements ThreadContextBinder {

	/** MDC key of the request id. */
	public static final String REQUEST_ID = "reqctx.requestId";

	/** MDC key of the trace id. */
	public static final String TRACE_ID = "reqctx.traceId";

	/** MDC key of the deadline, in milliseconds since the epoch. */
	public static final String DEADLINE = "reqctx.deadlineMs";

	@Override
	public Restore bind(RequestContext context) {
		String requestId = context.get(StandardKeys.REQUEST_ID);
		String traceId = context.get(StandardKeys.TRACE_ID);
		long remainingNanos = context.remainingNanos();
		String deadline = (remainingNanos != Long.MAX_VALUE)
				? Long.toString(System.currentTimeMillis() + TimeUnit.NANOSECONDS.toMillis(remainingNanos)) : null;
		String previousRequestId = swap(REQUEST_ID, requestId);
		String previousTraceId = swap(TRACE_ID, traceId);
		String previousDeadline = swap(DEADLINE, deadline);
		return () -> {
			set(REQUEST_ID, previousRequestId);
			set(TRACE_ID, previousTraceId);
			set(DEADLINE, previousDeadline);
		};
	}

	/** Sets a key and returns its previous value. */
	private static String swap(String key, String value) {
		String previous = MDC.get(key);
		set(key, value);
		return previous;
	}

	private static void set(String key, String value) {
		if (value != null) {
			MDC.put(key, value);
		}
		else {
			MDC.remove(key);
		}
	}

}
