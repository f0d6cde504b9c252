package dev.reqctx.sample;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.reqctx.LiveContexts;
import dev.reqctx.testsupport.TestHttp;
import dev.reqctx.testsupport.TestHttp.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample service on its embedded H2 database, over real HTTP: the contract of its demo
 * endpoints and the live tree in actuator.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class SampleServiceTests {

	@LocalServerPort
	int port;

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
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
		JsonNode later = first;
		while (later != null && later.get("remainingMs").asLong() >= firstRemaining && System.nanoTime() < deadline) {
			Thread.sleep(20);
			later = listed("sleepy");
		}
		assertThat(later).as("still in flight").isNotNull();
		assertThat(later.get("remainingMs").asLong()).isLessThan(firstRemaining);
		Response response = sleep.get(10, TimeUnit.SECONDS);
		assertThat(response.status()).isEqualTo(200);
		assertThat(response.json().get("sleptMs").asLong()).isGreaterThanOrEqualTo(1_500L);
		assertThat(listed("sleepy")).isNull();
		assertThat(LiveContexts.size()).isZero();
	}

	@Test
	void badSleepArgumentsGetA400() {
		assertThat(this.http.get("/demo/sleep?seconds=-1").status()).isEqualTo(400);
		assertThat(this.http.get("/demo/sleep?seconds=abc").status()).isEqualTo(400);
	}

	private JsonNode awaitListed(String requestId) throws InterruptedException {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		JsonNode found;
		while ((found = listed(requestId)) == null) {
			assertThat(System.nanoTime() - deadline).as("listed in time").isNegative();
			Thread.sleep(5);
		}
		return found;
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
