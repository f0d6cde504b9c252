package dev.reqctx.tracing;

import java.util.Objects;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextKey;
import dev.reqctx.ContextRuntime;
import dev.reqctx.Deadline;
import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.RootFailureListener;
import dev.reqctx.web.RequestContextCustomizer;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import jakarta.servlet.http.HttpServletRequest;

/**
 * A {@link RequestContextCustomizer} that ties each request's context to the span current when
 * the request arrives (the server observation's span, when the observation filter runs first):
 * <ul>
 * <li>the trace id is stored under {@link StandardKeys#TRACE_ID}, so it shows in the actuator
 * endpoint, in {@code 504}/{@code 503} problem bodies and in the logging MDC;
 * <li>when the context is cancelled for a reason other than the request completing, the span
 * gets an event {@code reqctx.cancelled <CAUSE>} at the moment of the cancel, a tag
 * {@value #CAUSE_TAG} with the cause and a tag {@value #BUDGET_TAG} with the budget the request
 * had when it started, so a trace shows why the work stopped and how much time it was given.
 * </ul>
 * A request that completes gets nothing from reqctx on its span: every tag is paid for again
 * when the span is exported, and these add nothing to a request that ended normally. The span
 * is looked up once per request (the tracer's lookup allocates), in {@code customize}, and kept
 * in the context under a {@linkplain Contexts#hiddenKey(String) hidden key}; one
 * {@link RootFailureListener} per runtime finds it there when a request fails, so a request that
 * succeeds registers no listener of its own.
 * An unsampled request still gets its trace id (logs and problem bodies correlate with the
 * tracer's own log correlation), but nothing is recorded on its span. Without a current span,
 * or with a no-op tracer, it does nothing.
 */
public final class TracingRequestContextCustomizer implements RequestContextCustomizer {

	/** Span tag with the request's budget in milliseconds. */
	public static final String BUDGET_TAG = "reqctx.budget.ms";

	/** Span tag with the cause that cancelled the request. */
	public static final String CAUSE_TAG = "reqctx.cancel.cause";

	/** Prefix of the span event recorded when the request is cancelled. */
	public static final String CANCEL_EVENT = "reqctx.cancelled";

	/** The request's span, in its context: not a value anyone else can read or list. */
	private static final ContextKey<Span> SPAN = Contexts.hiddenKey("span");

	/** Shared by every request of every runtime: it reads the span from the failed root. */
	private static final RootFailureListener TAGGER = TracingRequestContextCustomizer::rootFailed;

	private final Tracer tracer;

	/** The runtime {@link #TAGGER} was last added to: adding is idempotent, this skips the call. */
	private ContextRuntime hooked;

	/**
	 * Creates a customizer.
	 * @param tracer the application's tracer
	 */
	public TracingRequestContextCustomizer(Tracer tracer) {
		this.tracer = Objects.requireNonNull(tracer, "tracer must not be null");
	}

	@Override
	public RequestContext customize(RequestContext base, HttpServletRequest request) {
		// An unsampled span is a no-op span but still has a trace id, and log lines and problem
		// bodies of unsampled requests deserve correlation too; a no-op tracer's id is empty.
		Span span = this.tracer.currentSpan();
		if (span == null) {
			return base;
		}
		String traceId = span.context().traceId();
		if (traceId == null || traceId.isEmpty()) {
			return base; // a no-op tracer: nothing to correlate, nothing to record
		}
		// Whether it records is asked only if the request fails: OpenTelemetry's answer takes a lock.
		return base.withValue(StandardKeys.TRACE_ID, traceId).withValue(SPAN, span);
	}

	@Override
	public void started(CancellableContext context, HttpServletRequest request) {
		ContextRuntime runtime = Contexts.runtime(context);
		if (runtime != this.hooked) {
			Contexts.addRootFailureListener(runtime, TAGGER);
			this.hooked = runtime;
		}
	}

	private static void rootFailed(CancellableContext root, CancellationCause cause) {
		Span span = root.get(SPAN);
		if (span == null || span.isNoop()) {
			return;
		}
		// The span itself, not "the current span": cancellation runs on another thread (the
		// deadline timer, an operator's request) where this span is not current.
		span.event(CANCEL_EVENT + " " + cause.name());
		span.tag(CAUSE_TAG, cause.name());
		// The budget it started with, from its deadline and start: no clock read per request.
		Deadline deadline = root.deadline().orElse(null);
		if (deadline != null) {
			long budgetNanos = deadline.nanoTime() - Contexts.startNanos(root);
			span.tag(BUDGET_TAG, Long.toString(Math.max(0, TimeUnit.NANOSECONDS.toMillis(budgetNanos))));
		}
	}

}
