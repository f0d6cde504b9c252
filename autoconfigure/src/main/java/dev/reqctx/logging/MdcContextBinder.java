package dev.reqctx.logging;

import dev.reqctx.Deadline;
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
 * <li>{@value #DEADLINE}, only when {@linkplain #MdcContextBinder(boolean) asked for}
 * ({@code reqctx.logging.deadline=true}): the deadline as epoch milliseconds. An MDC value is
 * fixed when it is set, while the time left shrinks with every line; an absolute deadline stays
 * true for the whole request, and the budget left when a line was written is this value minus
 * the line's timestamp. It is derived from the monotonic deadline ({@link Deadline#epochMillis()},
 * no clock read), so two bindings of one request may differ by a millisecond.
 * </ul>
 *
 * <p>Every key costs every request a read, a write and a removal of Logback's thread-local map
 * (0.06 us per key in the profile of benchmarks/README.md), whether or not the request logs;
 * the deadline also costs a number formatted. The deadline is what the actuator endpoint, the
 * problem body and the span already say, so it is left out unless asked for.
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

	private final boolean deadline;

	/** Creates a binder of the request id and the trace id. */
	public MdcContextBinder() {
		this(false);
	}

	/**
	 * Creates a binder.
	 * @param deadline whether to bind {@value #DEADLINE} too
	 */
	public MdcContextBinder(boolean deadline) {
		this.deadline = deadline;
	}

	@Override
	public Restore bind(RequestContext context) {
		String requestId = context.get(StandardKeys.REQUEST_ID);
		String traceId = context.get(StandardKeys.TRACE_ID);
		String previousRequestId = MDC.get(REQUEST_ID);
		String previousTraceId = MDC.get(TRACE_ID);
		// A key that is absent and stays absent (no trace id without a tracer) is not touched.
		boolean touchTraceId = traceId != null || previousTraceId != null;
		set(REQUEST_ID, requestId);
		if (touchTraceId) {
			set(TRACE_ID, traceId);
		}
		if (!this.deadline) {
			return new Previous(previousRequestId, previousTraceId, null, touchTraceId, false);
		}
		Deadline deadline = context.deadline().orElse(null);
		String previousDeadline = MDC.get(DEADLINE);
		set(DEADLINE, (deadline != null) ? Long.toString(deadline.epochMillis()) : null);
		return new Previous(previousRequestId, previousTraceId, previousDeadline, touchTraceId, true);
	}

	/** Puts back what the thread had before the binding. */
	private record Previous(String requestId, String traceId, String deadline, boolean touchedTraceId,
			boolean touchedDeadline) implements Restore {

		@Override
		public void close() {
			set(REQUEST_ID, this.requestId);
			if (this.touchedTraceId) {
				set(TRACE_ID, this.traceId);
			}
			if (this.touchedDeadline) {
				set(DEADLINE, this.deadline);
			}
		}

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
