package dev.reqctx.tracing;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.Contexts;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import org.junit.jupiter.api.Test;

import org.springframework.mock.web.MockHttpServletRequest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.BDDMockito.given;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;

/**
 * Tests for {@link TracingRequestContextCustomizer} with tracers in states a real request
 * rarely shows in tests: an unsampled span, a no-op tracer, no span at all.
 */
class TracingRequestContextCustomizerTests {

	private final Tracer tracer = mock(Tracer.class);

	private final TracingRequestContextCustomizer customizer = new TracingRequestContextCustomizer(this.tracer);

	@Test
	void anUnsampledRequestStillGetsItsTraceIdButNothingIsRecordedOnItsSpan() {
		Span span = span("4bf92f3577b34da6", true);
		given(this.tracer.currentSpan()).willReturn(span);
		RequestContext base = this.customizer.customize(RequestContext.root(), new MockHttpServletRequest());
		assertThat(base.get(StandardKeys.TRACE_ID)).isEqualTo("4bf92f3577b34da6");
		try (CancellableContext ctx = base.withTimeout(Duration.ofSeconds(1))) {
			this.customizer.started(ctx, new MockHttpServletRequest());
			ctx.cancel();
		}
		verify(span, never()).tag(anyString(), anyString());
		verify(span, never()).event(anyString());
	}

	@Test
	void aFailedRequestTagsItsSpanFromTheRuntimesListenerAndACompletedOneDoesNot() {
		ContextRuntime runtime = new ContextRuntime("tracing-test", 10, false);
		Span failed = span("4bf92f3577b34da6", false);
		given(this.tracer.currentSpan()).willReturn(failed);
		RequestContext base = this.customizer.customize(RequestContext.root(), new MockHttpServletRequest());
		// The span rides in the context under a key nobody else can read or list.
		assertThat(base.values()).containsOnlyKeys(StandardKeys.TRACE_ID);
		CancellableContext request = Contexts.newLiveRoot(runtime, base, ContextKind.REQUEST, "GET /x", 30,
				TimeUnit.SECONDS);
		this.customizer.started(request, new MockHttpServletRequest());
		request.cancel(CancellationCause.DEADLINE_EXCEEDED);
		Contexts.unregister(request);
		verify(failed).event(TracingRequestContextCustomizer.CANCEL_EVENT + " DEADLINE_EXCEEDED");
		verify(failed).tag(TracingRequestContextCustomizer.CAUSE_TAG, "DEADLINE_EXCEEDED");
		verify(failed).tag(TracingRequestContextCustomizer.BUDGET_TAG, "30000");

		Span completed = span("5bf92f3577b34da6", false);
		given(this.tracer.currentSpan()).willReturn(completed);
		CancellableContext next = Contexts.newLiveRoot(runtime,
				this.customizer.customize(RequestContext.root(), new MockHttpServletRequest()), ContextKind.REQUEST,
				"GET /y", 30, TimeUnit.SECONDS);
		this.customizer.started(next, new MockHttpServletRequest());
		next.cancel(CancellationCause.COMPLETED);
		Contexts.unregister(next);
		verify(completed, never()).tag(anyString(), anyString());
		verify(completed, never()).event(anyString());
		// A completed request never even asks whether its span records (a lock in OpenTelemetry).
		verify(completed, never()).isNoop();
	}

	@Test
	void aNoopTracersEmptyTraceIdIsNotRecorded() {
		Span noop = span("", true);
		given(this.tracer.currentSpan()).willReturn(noop);
		RequestContext base = this.customizer.customize(RequestContext.root(), new MockHttpServletRequest());
		assertThat(base).isSameAs(RequestContext.root());
	}

	@Test
	void withoutACurrentSpanNothingChanges() {
		RequestContext base = this.customizer.customize(RequestContext.root(), new MockHttpServletRequest());
		assertThat(base).isSameAs(RequestContext.root());
		try (CancellableContext ctx = base.withCancel()) {
			this.customizer.started(ctx, new MockHttpServletRequest());
		}
	}

	private static Span span(String traceId, boolean noop) {
		Span span = mock(Span.class);
		TraceContext context = mock(TraceContext.class);
		given(context.traceId()).willReturn(traceId);
		given(span.context()).willReturn(context);
		given(span.isNoop()).willReturn(noop);
		return span;
	}

}
