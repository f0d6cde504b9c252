package dev.reqctx.web;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.reqctx.ContextRuntime;
import dev.reqctx.LiveContexts;
import dev.reqctx.testsupport.TestHttp.Response;
import dev.reqctx.testsupport.TestHttp;
import io.micrometer.core.instrument.MeterRegistry;
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
 * Tests for the request context filter over real HTTP: deadlines, budget headers, request ids,
 * problem responses and the end of every request. Tomcat runs with one thread, so requests run
 * back to back on the same thread.
 */
@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "server.tomcat.threads.max=1", "server.tomcat.threads.min-spare=1",
				"reqctx.web.default-timeout=5s", "reqctx.web.max-timeout=8s",
				"reqctx.web.path-timeouts[/test/slow/**]=7s", "spring.mvc.async.request-timeout=5s",
				"server.max-http-request-header-size=64KB" })
class RequestContextFilterIntegrationTests {

	@LocalServerPort
	int port;

	@Autowired
	ContextRuntime runtime;

	@Autowired
	MeterRegistry meters;

	TestHttp http;

	@BeforeEach
	void setUp() {
		this.http = new TestHttp(this.port);
	}

	@AfterEach
	void registryIsEmptyAfterEveryRequest() {
		await("no request context left in the registry").atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(5))
			.until(() -> this.runtime.live().size() == 0);
	}

	@Test
	void theDefaultTimeoutAppliesWithoutABudgetHeader() {
		JsonNode body = this.http.get("/test/echo").json();
		assertThat(body.get("remainingMs").asLong()).isBetween(4_000L, 5_000L);
	}

	@Test
	void aPerPathTimeoutReplacesTheDefault() {
		JsonNode body = this.http.get("/test/slow/echo").json();
		assertThat(body.get("remainingMs").asLong()).isBetween(6_000L, 7_000L);
	}

	@Test
	void anInboundBudgetShortensTheDeadline() {
		JsonNode body = this.http.get("/test/echo", "Request-Timeout-Ms", "300").json();
		assertThat(body.get("remainingMs").asLong()).isBetween(0L, 300L);
	}

	@Test
	void aHugeInboundBudgetNeverExceedsTheMaximum() {
		JsonNode body = this.http.get("/test/slow/echo", "Request-Timeout-Ms", "999999999").json();
		assertThat(body.get("remainingMs").asLong()).isBetween(6_000L, 7_000L);
		JsonNode capped = this.http.get("/test/echo", "Request-Timeout-Ms", "999999999").json();
		assertThat(capped.get("remainingMs").asLong()).isLessThanOrEqualTo(8_000L);
	}

	@Test
	void malformedBudgetsAreIgnoredAndCounted() {
		assertIgnored("abc", "malformed");
		assertIgnored("12.5", "malformed");
		assertIgnored("", "malformed");
		assertIgnored("-5", "negative");
		assertIgnored("99999999999999999999", "too-long");
		assertIgnored("9".repeat(10 * 1024), "too-long");
		assertIgnored("9999999999999999", "overflow");
	}

	@Test
	void aRepeatedBudgetHeaderIsIgnoredAndCounted() {
		double before = invalidCount("repeated");
		Response response = this.http.get("/test/echo", "Request-Timeout-Ms", "100", "Request-Timeout-Ms", "200000");
		assertThat(response.json().get("remainingMs").asLong()).as("the default, not either value")
			.isBetween(4_000L, 5_000L);
		assertThat(invalidCount("repeated")).isEqualTo(before + 1);
	}

	@Test
	void aValidRequestIdIsUsedAndEchoed() {
		Response response = this.http.get("/test/echo", "X-Request-Id", "abc-123_ok.42");
		assertThat(response.header("X-Request-Id")).isEqualTo("abc-123_ok.42");
		assertThat(response.json().get("requestId").asString()).isEqualTo("abc-123_ok.42");
	}

	@Test
	void anInvalidRequestIdIsReplacedWithAGeneratedOne() {
		for (String bad : new String[] { "has space", "x".repeat(129), "quote\"d", "ünïcode" }) {
			Response response = this.http.get("/test/echo", "X-Request-Id", bad);
			assertThat(response.header("X-Request-Id")).isNotEqualTo(bad)
				.matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
			assertThat(response.json().get("requestId").asString()).isEqualTo(response.header("X-Request-Id"));
		}
	}

	@Test
	void aMissingRequestIdIsGenerated() {
		Response first = this.http.get("/test/echo");
		Response second = this.http.get("/test/echo");
		assertThat(first.header("X-Request-Id")).isNotBlank().isNotEqualTo(second.header("X-Request-Id"));
	}

	@Test
	void backToBackRequestsOnOneThreadNeverSeeEachOthersContext() {
		Response leaky = this.http.get("/test/leak", "X-Tenant", "acme");
		Response next = this.http.get("/test/echo");
		assertThat(leaky.json().get("tenant").asString()).isEqualTo("acme");
		assertThat(next.json().get("thread").asString()).as("same Tomcat thread")
			.isEqualTo(leaky.json().get("thread").asString());
		assertThat(next.json().get("tenant").isNull()).isTrue();
		assertThat(next.json().get("contextId").asString()).isNotEqualTo(leaky.json().get("contextId").asString());
		assertThat(next.json().get("requestId").asString()).isEqualTo(next.header("X-Request-Id"));
	}

	@Test
	void anExceededDeadlineAnswers504Problem() {
		Response response = this.http.get("/test/await-cancel", "Request-Timeout-Ms", "200", "X-Request-Id", "r-504");
		assertThat(response.status()).isEqualTo(504);
		assertThat(response.header("Content-Type")).startsWith("application/problem+json");
		JsonNode problem = response.json();
		assertThat(problem.get("status").asInt()).isEqualTo(504);
		assertThat(problem.get("cause").asString()).isEqualTo("DEADLINE_EXCEEDED");
		assertThat(problem.get("contextId").asString()).isNotBlank();
		assertThat(problem.get("requestId").asString()).isEqualTo("r-504");
		assertThat(problem.get("elapsedMs").asLong()).isBetween(150L, 2_000L);
	}

	@Test
	void aDriverStyleFailureAfterTheDeadlineStillAnswers504() {
		Response response = this.http.get("/test/fail-after-cancel", "Request-Timeout-Ms", "100");
		assertThat(response.status()).isEqualTo(504);
		assertThat(response.json().get("cause").asString()).isEqualTo("DEADLINE_EXCEEDED");
	}

	@Test
	void aCancelledRequestAnswers503Problem() {
		Response response = this.http.get("/test/self-cancel");
		assertThat(response.status()).isEqualTo(503);
		assertThat(response.json().get("cause").asString()).isEqualTo("CANCELLED");
	}

	@Test
	void anAsyncCallableRunsInItsRequestsContext() {
		Response response = this.http.get("/test/async", "Request-Timeout-Ms", "3000", "X-Request-Id", "async-1");
		assertThat(response.status()).isEqualTo(200);
		JsonNode body = response.json();
		assertThat(body.get("requestId").asString()).isEqualTo("async-1");
		assertThat(body.get("remainingMs").asLong()).isBetween(1L, 3_000L);
		assertThat(body.get("thread").asString()).as("ran on the async executor").doesNotStartWith("http-nio");
	}

	@Test
	void anAsyncRequestPastItsDeadlineAnswers504() {
		Response response = this.http.get("/test/async-await-cancel", "Request-Timeout-Ms", "200");
		assertThat(response.status()).isEqualTo(504);
	}

	@Test
	void anAsyncTimeoutEndsTheContext() {
		Response response = this.http.get("/test/async-never");
		assertThat(response.status()).isEqualTo(503);
	}

	@Test
	void aFailingHandlerEndsTheContextAndGetsTheErrorPage() {
		Response response = this.http.get("/test/boom");
		assertThat(response.status()).isEqualTo(500);
	}

	@Test
	void concurrentRequestsAreAllRegisteredWhileInFlightAndGoneAfterwards() throws Exception {
		CompletableFuture<Response> inFlight = this.http.getAsync("/test/await-cancel", "Request-Timeout-Ms", "1500");
		await("the request is registered while in flight").atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(5))
			.until(() -> this.runtime.live().size() == 1);
		assertThat(inFlight.get(10, TimeUnit.SECONDS).status()).isEqualTo(504);
	}

	private void assertIgnored(String value, String reason) {
		double before = invalidCount(reason);
		Response response = this.http.get("/test/echo", "Request-Timeout-Ms", value);
		assertThat(response.status()).as("value %s", abbreviate(value)).isEqualTo(200);
		assertThat(response.json().get("remainingMs").asLong()).as("value %s", abbreviate(value))
			.isBetween(4_000L, 5_000L);
		assertThat(invalidCount(reason)).as("value %s counted as %s", abbreviate(value), reason).isEqualTo(before + 1);
	}

	private double invalidCount(String reason) {
		var counter = this.meters.find("reqctx.budget.invalid").tag("reason", reason).counter();
		return (counter != null) ? counter.count() : 0;
	}

	private static String abbreviate(String value) {
		return (value.length() > 24) ? value.substring(0, 24) + "...(" + value.length() + " chars)" : value;
	}

}
