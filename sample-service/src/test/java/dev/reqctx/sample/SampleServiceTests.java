package dev.reqctx.sample;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.reqctx.ContextRuntime;
import dev.reqctx.LiveContexts;
import dev.reqctx.testsupport.TestHttp.Response;
import dev.reqctx.testsupport.TestHttp;
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
 * The sample service on its embedded H2 database, over real HTTP: the contract of its demo
 * endpoints and the live tree in actuator.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "reqctx.task.capture-stacks=true")
class SampleServiceTests {

	@LocalServerPort
	int port;

	@Autowired
	ContextRuntime runtime;

	TestHttp http;

	@BeforeEach
	void setUp() {
		this.http = new TestHttp(this.port);
	}

	@Test
	void echoShowsTheRequestIdTheBudgetAndTheTenant() {
		Response response = this.http.get("/demo/echo", "Request-Timeout-Ms", "300", "X-Tenant", "acme",
				"X-Request-Id", "sample-1");
		JsonNode body = response.json();
		assertThat(body.get("requestId").asString()).isEqualTo("sample-1");
		assertThat(body.get("remainingMs").asLong()).isBetween(0L, 300L);
		assertThat(body.get("tenant").asString()).isEqualTo("acme");
	}

	@Test
	void aHugeBudgetNeverExceedsTheConfiguredMaximum() {
		JsonNode body = this.http.get("/demo/echo", "Request-Timeout-Ms", "999999999").json();
		assertThat(body.get("remainingMs").asLong()).isLessThanOrEqualTo(60_000L);
	}

	@Test
	void ordersComeFromTheDatabase() {
		JsonNode body = this.http.get("/demo/orders").json();
		assertThat(body.get("orders")).hasSize(3);
		assertThat(body.get("requestId").asString()).isNotBlank();
	}

	@Test
	void sleepSleepsOnTheDatabaseAndShowsInTheLiveTreeWithAShrinkingBudget() throws Exception {
		CompletableFuture<Response> sleep = this.http.getAsync("/demo/sleep?seconds=1.5", "X-Request-Id", "sleepy");
		JsonNode first = awaitListed("sleepy");
		assertThat(first.get("path").asString()).isEqualTo("/demo/sleep");
		long firstRemaining = first.get("remainingMs").asLong();
		JsonNode later = await("the budget shrinks, or the request ends").atMost(Duration.ofSeconds(5))
			.pollInterval(Duration.ofMillis(20))
			.until(() -> listed("sleepy"), (node) -> node == null || node.get("remainingMs").asLong() < firstRemaining);
		assertThat(later).as("still in flight").isNotNull();
		assertThat(later.get("remainingMs").asLong()).isLessThan(firstRemaining);
		Response response = sleep.get(10, TimeUnit.SECONDS);
		assertThat(response.status()).isEqualTo(200);
		assertThat(response.json().get("sleptMs").asLong()).isGreaterThanOrEqualTo(1_500L);
		// The request leaves the tree right after its response is written.
		await("the finished request left the tree").atMost(Duration.ofSeconds(5))
			.pollInterval(Duration.ofMillis(5))
			.until(() -> listed("sleepy") == null);
	}

	@Test
	void fanoutRunsEveryTaskUnderTheRequestsIdAndBudget() {
		JsonNode body = this.http.get("/demo/fanout?tasks=4&seconds=0.2", "X-Request-Id", "fan-1",
				"Request-Timeout-Ms", "5000").json();
		assertThat(body.get("tasks")).hasSize(4);
		for (JsonNode task : body.get("tasks")) {
			assertThat(task.get("requestId").asString()).isEqualTo("fan-1");
			assertThat(task.get("remainingMs").asLong()).isBetween(1L, 5_000L);
			assertThat(task.get("thread").asString()).startsWith("task-");
		}
	}

	@Test
	void chainShowsABudgetThatShrinksAtEveryHop() {
		JsonNode hop = this.http.get("/demo/chain?depth=3&seconds=0", "X-Request-Id", "chain-1",
				"Request-Timeout-Ms", "5000").json();
		long previous = Long.MAX_VALUE;
		int hops = 0;
		while (hop != null && !hop.isMissingNode() && !hop.isNull()) {
			assertThat(hop.get("requestId").asString()).isEqualTo("chain-1");
			long remaining = hop.get("remainingMs").asLong();
			assertThat(remaining).isLessThan(previous);
			previous = remaining;
			hops++;
			hop = hop.get("next");
		}
		assertThat(hops).isEqualTo(4);
	}

	@Test
	void orphanProducesExactlyOneLeakRecordWithTheSubmittingStack() throws Exception {
		long before = this.runtime.orphans().count();
		Response response = this.http.get("/demo/orphan?seconds=2", "X-Request-Id", "orphan-sample");
		assertThat(response.status()).isEqualTo(200);
		// The request's end (and so the leak record) may come a moment after its response.
		await("the orphan is recorded").atMost(Duration.ofSeconds(5))
			.pollInterval(Duration.ofMillis(5))
			.until(() -> this.runtime.orphans().count() > before);
		JsonNode leaks = this.http.get("/actuator/requestcontexts").json().get("leaks");
		assertThat(this.runtime.orphans().count()).isEqualTo(before + 1);
		JsonNode leak = leaks.get(0);
		assertThat(leak.get("requestId").asString()).isEqualTo("orphan-sample");
		assertThat(leak.get("submittedAt").toString()).contains("DemoController.orphan");
	}

	@Test
	void badSleepArgumentsGetA400() {
		assertThat(this.http.get("/demo/sleep?seconds=-1").status()).isEqualTo(400);
		assertThat(this.http.get("/demo/sleep?seconds=abc").status()).isEqualTo(400);
	}

	private JsonNode awaitListed(String requestId) {
		return await(requestId + " listed").atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(5))
			.until(() -> listed(requestId), Objects::nonNull);
	}

	private JsonNode listed(String requestId) {
		for (JsonNode ctx : this.http.get("/actuator/requestcontexts").json().get("contexts")) {
			if (requestId.equals(ctx.path("requestId").asString())) {
				return ctx;
			}
		}
		return null;
	}

}
