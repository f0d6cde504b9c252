package dev.reqctx.actuate;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.reqctx.ContextRuntime;
import dev.reqctx.LiveContexts;
import dev.reqctx.testsupport.TestHttp.Response;
import dev.reqctx.testsupport.TestHttp;
import dev.reqctx.web.WebTestApplication;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for the {@code requestcontexts} endpoint over real HTTP, with requests in flight.
 */
class RequestContextsEndpointIntegrationTests {

	abstract static class EndpointTests {

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
		void registryIsEmptyAfterwards() {
			awaitUntil("no request left in flight").until(() -> this.runtime.live().size() == 0);
		}

		/** Starts a request that waits for its cancellation and waits until it is listed. */
		CompletableFuture<Response> startInFlight(String requestId, String budgetMs) {
			CompletableFuture<Response> response = this.http.getAsync("/test/await-cancel", "X-Request-Id", requestId,
					"Request-Timeout-Ms", budgetMs, "X-Tenant", "acme");
			awaitUntil("the request is listed").until(() -> find(requestId) != null);
			return response;
		}

		/** Polls every 5 ms: the shortest request here has 1 s, and must be seen well within it. */
		static ConditionFactory awaitUntil(String what) {
			return await(what).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5));
		}

		static List<String> strings(JsonNode array) {
			return array.valueStream().map(JsonNode::asString).toList();
		}

		JsonNode find(String requestId) {
			for (JsonNode ctx : this.http.get("/actuator/requestcontexts").json().get("contexts")) {
				if (requestId.equals(ctx.get("requestId").asString())) {
					return ctx;
				}
			}
			return null;
		}

	}

	@Nested
	@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "management.endpoints.web.exposure.include=requestcontexts",
					"management.endpoint.requestcontexts.access=unrestricted" })
	class DefaultSettings extends EndpointTests {

		@Test
		void anInFlightRequestIsListedWithASaneAgeAndRemainingBudgetAndIsGoneAfterwards() throws Exception {
			CompletableFuture<Response> response = startInFlight("listed-1", "3000");
			JsonNode listed = find("listed-1");
			assertThat(listed.get("kind").asString()).isEqualTo("REQUEST");
			assertThat(listed.get("method").asString()).isEqualTo("GET");
			assertThat(listed.get("path").asString()).isEqualTo("/test/await-cancel");
			assertThat(listed.get("state").asString()).isEqualTo("ACTIVE");
			assertThat(listed.get("ageMs").asLong()).isBetween(0L, 3_000L);
			assertThat(listed.get("remainingMs").asLong()).isBetween(1L, 3_000L);
			assertThat(listed.get("thread").asString()).startsWith("http-nio");
			long firstRemaining = listed.get("remainingMs").asLong();
			awaitUntil("the budget shrinks").until(() -> find("listed-1").get("remainingMs").asLong() < firstRemaining);
			assertThat(response.get(10, TimeUnit.SECONDS).status()).isEqualTo(504);
			// The request ends (and leaves the tree) right after its response is written.
			awaitUntil("the finished request is gone").until(() -> find("listed-1") == null);
		}

		@Test
		void theListPutsTheRequestsClosestToTheirDeadlineFirstAndHonoursTheLimit() throws Exception {
			CompletableFuture<Response> later = startInFlight("later", "4000");
			CompletableFuture<Response> sooner = startInFlight("sooner", "2500");
			JsonNode body = this.http.get("/actuator/requestcontexts").json();
			assertThat(body.get("contexts").get(0).get("requestId").asString()).isEqualTo("sooner");
			JsonNode limited = this.http.get("/actuator/requestcontexts?limit=1").json();
			assertThat(limited.get("contexts")).hasSize(1);
			assertThat(limited.get("total").asInt()).isGreaterThanOrEqualTo(3);
			assertThat(limited.get("leaks").isArray()).isTrue();
			this.http.post("/actuator/requestcontexts/later");
			this.http.post("/actuator/requestcontexts/sooner");
			later.get(10, TimeUnit.SECONDS);
			sooner.get(10, TimeUnit.SECONDS);
		}

		@Test
		void oneContextShowsItsTreeAndTheHandlerThreadsStack() throws Exception {
			CompletableFuture<Response> response = startInFlight("stack-1", "3000");
			String id = find("stack-1").get("id").asString();
			JsonNode one = this.http.get("/actuator/requestcontexts/" + id).json();
			assertThat(one.get("id").asString()).isEqualTo(id);
			assertThat(one.get("stack").toString()).contains("awaitCancel");
			JsonNode byRequestId = this.http.get("/actuator/requestcontexts/stack-1").json();
			assertThat(byRequestId.get("id").asString()).isEqualTo(id);
			assertThat(response.get(10, TimeUnit.SECONDS).status()).isEqualTo(504);
		}

		@Test
		void oneContextsStackIsFoldedUnlessTheCallerAsksForEveryFrame() throws Exception {
			CompletableFuture<Response> response = startInFlight("stack-2", "3000");
			List<String> folded = strings(this.http.get("/actuator/requestcontexts/stack-2").json().get("stack"));
			List<String> full = strings(this.http.get("/actuator/requestcontexts/stack-2?stack=full").json().get("stack"));
			// The handler thread is parked in the same place for both calls: the same frames.
			assertThat(full).noneMatch((frame) -> frame.startsWith("\u2026"))
				.anyMatch((frame) -> frame.contains("org.apache.catalina"));
			assertThat(folded).hasSizeLessThan(full.size())
				.anyMatch((frame) -> frame.contains("AwaitCancel.thenThrow"))
				.anyMatch((frame) -> frame.contains("WebTestApplication$TestController.awaitCancel"))
				.anyMatch((frame) -> frame.matches("\u2026 \\d+ frames in .*org\\.apache.*"));
			int frames = 0;
			for (String entry : folded) {
				frames += entry.startsWith("\u2026") ? Integer.parseInt(entry.split(" ")[1]) : 1;
				if (!entry.startsWith("\u2026")) {
					assertThat(full).contains(entry);
				}
			}
			assertThat(frames).as("the folded lines count every frame left out").isEqualTo(full.size());
			assertThat(response.get(10, TimeUnit.SECONDS).status()).isEqualTo(504);
		}

		@Test
		void anOperatorCancelStopsTheRequestWith503() throws Exception {
			CompletableFuture<Response> response = startInFlight("cancel-1", "20000");
			String id = find("cancel-1").get("id").asString();
			long start = System.nanoTime();
			Response cancel = this.http.post("/actuator/requestcontexts/" + id);
			assertThat(cancel.status()).isEqualTo(200);
			assertThat(cancel.json().get("cancelled").asBoolean()).isTrue();
			assertThat(cancel.json().get("cause").asString()).isEqualTo("CANCELLED");
			Response cancelled = response.get(10, TimeUnit.SECONDS);
			assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
			assertThat(cancelled.status()).isEqualTo(503);
			assertThat(cancelled.json().get("cause").asString()).isEqualTo("CANCELLED");
		}

		@Test
		void unknownIdsAnswer404() {
			assertThat(this.http.get("/actuator/requestcontexts/nope").status()).isEqualTo(404);
			assertThat(this.http.post("/actuator/requestcontexts/nope").status()).isEqualTo(404);
		}

		@Test
		void childContextsAreShownWithTheirValuesMaskedByDefault() throws Exception {
			CompletableFuture<Response> response = startInFlight("masked-1", "3000");
			JsonNode child = find("masked-1").get("children").get(0);
			assertThat(child.get("kind").asString()).isEqualTo("TASK");
			assertThat(child.get("name").asString()).isEqualTo("tenant-work");
			assertThat(child.get("values").get("tenant").asString()).isEqualTo("******");
			assertThat(response.get(10, TimeUnit.SECONDS).status()).isEqualTo(504);
		}

	}

	@Nested
	@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "management.endpoints.web.exposure.include=requestcontexts",
					"management.endpoint.requestcontexts.show-values=always" })
	class ShowValues extends EndpointTests {

		@Test
		void valuesAreShownWhenAllowed() throws Exception {
			CompletableFuture<Response> response = startInFlight("shown-1", "3000");
			JsonNode child = find("shown-1").get("children").get(0);
			assertThat(child.get("values").get("tenant").asString()).isEqualTo("acme");
			assertThat(response.get(10, TimeUnit.SECONDS).status()).isEqualTo(504);
		}

	}

	@Nested
	@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "management.endpoints.web.exposure.include=requestcontexts")
	class ReadOnly extends EndpointTests {

		@Test
		void cancelIsNotAvailableUnlessTheUserOptsIn() throws Exception {
			CompletableFuture<Response> response = startInFlight("ro-1", "1000");
			String id = find("ro-1").get("id").asString();
			assertThat(this.http.post("/actuator/requestcontexts/" + id).status()).isIn(404, 405);
			assertThat(response.get(10, TimeUnit.SECONDS).status()).as("ran to its deadline").isEqualTo(504);
		}

	}

}
