package dev.reqctx.tracing;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;
import dev.reqctx.logging.MdcContextBinder;
import dev.reqctx.testsupport.AwaitCancel;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.test.simple.SimpleTracer;
import org.slf4j.MDC;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A web application traced by Micrometer Tracing's {@link SimpleTracer}: Spring Boot's
 * observation filter opens a span per request, and the handlers record the span they run in.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import(TracingTestApplication.TracedController.class)
class TracingTestApplication {

	@Bean
	SimpleTracer simpleTracer() {
		return new SimpleTracer();
	}

	@RestController
	@RequestMapping("/t")
	static class TracedController {

		/** The span each request's handler ran in, by request id. */
		static final Map<String, Span> spans = new ConcurrentHashMap<>();

		private final Tracer tracer;

		TracedController(Tracer tracer) {
			this.tracer = tracer;
		}

		@GetMapping("/echo")
		Map<String, String> echo() {
			Span span = record();
			return Map.of("spanTraceId", span.context().traceId(), "contextTraceId",
					RequestContext.current().get(StandardKeys.TRACE_ID), "mdcTraceId", MDC.get(MdcContextBinder.TRACE_ID));
		}

		@GetMapping("/await-cancel")
		String awaitCancel() throws InterruptedException {
			record();
			RequestContext ctx = RequestContext.current();
			AwaitCancel.thenThrow(ctx);
			return "not cancelled";
		}

		private Span record() {
			Span span = this.tracer.currentSpan();
			spans.put(RequestContext.current().get(StandardKeys.REQUEST_ID), span);
			return span;
		}

	}

}
