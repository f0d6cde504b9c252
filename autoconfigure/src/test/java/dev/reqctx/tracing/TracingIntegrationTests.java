package dev.reqctx.tracing;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.reqctx.ContextRuntime;
import dev.reqctx.LiveContexts;
import dev.reqctx.testsupport.TestHttp.Response;
import dev.reqctx.testsupport.TestHttp;
import io.micrometer.tracing.test.simple.SimpleSpan;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * With Micrometer Tracing (a {@code SimpleTracer} behind Spring Boot's server observation), each
 * request's context carries its span's trace id into the endpoint, the problem body and the MDC,
 * and the span records the budget and why the request was cancelled. Over real HTTP.
 */
@SpringBootTest(classes = TracingTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.endpoints.web.exposure.include=requestcontexts",
				"management.endpoint.requestcontexts.access=unrestricted" })
class TracingIntegrationTests {

	@LocalServerPort
	int port;

	@Autowired
	ContextRuntime runtime;

	TestHttp http;

	@BeforeEach
	void setUp() {
		this.http = new TestHttp(this.port);
	}

	@AfterEach
	void noRequestLeftInFlight() {
		await().atMost(Duration.ofSeconds(10)).until(() -> this.runtime.live().size() == 0);
	}

	@Test
	void theContextAndTheMdcCarryTheTraceIdOfTheRequestsSpanAndACompletedRequestsSpanGetsNoTags() {
		JsonNode body = this.http.get("/t/echo", "X-Request-Id", "traced-echo", "Request-Timeout-Ms", "2500").json();
		SimpleSpan span = span("traced-echo");
		assertThat(span.getTraceId()).isNotBlank();
		assertThat(body.get("spanTraceId").asString()).isEqualTo(span.getTraceId());
		assertThat(body.get("contextTraceId").asString()).isEqualTo(span.getTraceId());
		assertThat(body.get("mdcTraceId").asString()).isEqualTo(span.getTraceId());
		await().atMost(Duration.ofSeconds(10)).until(() -> span.getEndTimestamp().toEpochMilli() > 0);
		assertThat(span.getTags()).doesNotContainKeys(TracingRequestContextCustomizer.CAUSE_TAG,
				TracingRequestContextCustomizer.BUDGET_TAG);
		assertThat(span.getEvents()).extracting(Map.Entry::getValue)
			.noneMatch((event) -> event.startsWith(TracingRequestContextCustomizer.CANCEL_EVENT));
	}

	@Test
	void theEndpointShowsTheSpansTraceIdAndADeadlineLandsOnTheSpanAndInTheProblem() throws Exception {
		CompletableFuture<Response> response = this.http.getAsync("/t/await-cancel", "X-Request-Id", "traced-504",
				"Request-Timeout-Ms", "1500");
		JsonNode listed = awaitListed("traced-504");
		SimpleSpan span = span("traced-504");
		assertThat(listed.get("traceId").asString()).isEqualTo(span.getTraceId());
		assertThat(this.http.get("/actuator/requestcontexts/traced-504").json().get("traceId").asString())
			.isEqualTo(span.getTraceId());
		Response problem = response.get(10, TimeUnit.SECONDS);
		assertThat(problem.status()).isEqualTo(504);
		assertThat(problem.json().get("traceId").asString()).isEqualTo(span.getTraceId());
		assertThat(span.getTags()).containsEntry(TracingRequestContextCustomizer.CAUSE_TAG, "DEADLINE_EXCEEDED");
		assertThat(Long.parseLong(span.getTags().get(TracingRequestContextCustomizer.BUDGET_TAG))).isBetween(1000L, 1500L);
		assertThat(span.getEvents()).extracting(Map.Entry::getValue)
			.contains(TracingRequestContextCustomizer.CANCEL_EVENT + " DEADLINE_EXCEEDED");
	}

	@Test
	void anOperatorCancelLandsOnTheSpanWithItsCause() throws Exception {
		CompletableFuture<Response> response = this.http.getAsync("/t/await-cancel", "X-Request-Id", "traced-cancel");
		awaitListed("traced-cancel");
		assertThat(this.http.post("/actuator/requestcontexts/traced-cancel").status()).isEqualTo(200);
		Response problem = response.get(10, TimeUnit.SECONDS);
		assertThat(problem.status()).isEqualTo(503);
		SimpleSpan span = span("traced-cancel");
		assertThat(problem.json().get("traceId").asString()).isEqualTo(span.getTraceId());
		assertThat(span.getTags()).containsEntry(TracingRequestContextCustomizer.CAUSE_TAG, "CANCELLED");
		assertThat(span.getEvents()).extracting(Map.Entry::getValue)
			.contains(TracingRequestContextCustomizer.CANCEL_EVENT + " CANCELLED");
	}

	private JsonNode awaitListed(String requestId) {
		JsonNode[] found = new JsonNode[1];
		await().atMost(Duration.ofSeconds(10)).until(() -> {
			for (JsonNode ctx : this.http.get("/actuator/requestcontexts").json().get("contexts")) {
				if (requestId.equals(ctx.get("requestId").asString())) {
					found[0] = ctx;
					return TracingTestApplication.TracedController.spans.containsKey(requestId);
				}
			}
			return false;
		});
		return found[0];
	}

	private static SimpleSpan span(String requestId) {
		return (SimpleSpan) TracingTestApplication.TracedController.spans.get(requestId);
	}

}
