package dev.reqctx.tracing;

import java.util.Objects;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;
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
 * <li>the span is tagged {@value #BUDGET_TAG} with the request's budget in milliseconds;
 * <li>when the context is cancelled for a reason other than the request completing, the span
 * gets an event {@code reqctx.cancelled <CAUSE>} at the moment of the cancel and a tag
 * {@value #CAUSE_TAG} with the cause, so a trace shows why the work stopped.
 * </ul>
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

	private final Tracer tracer;

	/**
	 * Creates a customizer.
	 * @param tracer the tracer whose current span stands for the request
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
		return (traceId != null && !traceId.isEmpty()) ? base.withValue(StandardKeys.TRACE_ID, traceId) : base;
	}

	@Override
	public void started(CancellableContext context, HttpServletRequest request) {
		Span span = recordingSpan();
		if (span == null) {
			return;
		}
		long remaining = context.remainingNanos();
		if (remaining != Long.MAX_VALUE) {
			span.tag(BUDGET_TAG, Long.toString(Math.max(0, TimeUnit.NANOSECONDS.toMillis(remaining))));
		}
		// Holds the span itself, not "the current span": cancellation runs on another thread (the
		// deadline timer, an operator's request) where this span is not current.
		context.onCancel(() -> {
			CancellationCause cause = context.cause();
			if (cause != null && cause.isFailure()) {
				span.event(CANCEL_EVENT + " " + cause.name());
				span.tag(CAUSE_TAG, cause.name());
			}
		});
	}

	/** The current span if it records anything (is sampled), else {@code null}. */
	private Span recordingSpan() {
		Span span = this.tracer.currentSpan();
		return (span != null && !span.isNoop()) ? span : null;
	}

}
