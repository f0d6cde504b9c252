package dev.reqctx.web;

import dev.reqctx.ContextRuntime;
import dev.reqctx.LiveContexts;
import dev.reqctx.testsupport.TestHttp.Response;
import dev.reqctx.testsupport.TestHttp;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The filter's options over real HTTP: rejecting bad budgets, gRPC-style budgets, problem
 * responses switched off, and reqctx switched off altogether.
 */
class RequestContextFilterOptionsIntegrationTests {

	@Nested
	@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "reqctx.web.reject-invalid-budget=true", "server.max-http-request-header-size=64KB" })
	class RejectInvalidBudget {

		@LocalServerPort
		int port;

		@Autowired
		ContextRuntime runtime;

		@Test
		void everyKindOfBadBudgetIsAnswered400WithTheReason() {
			TestHttp http = new TestHttp(this.port);
			assertRejected(http.get("/test/echo", "Request-Timeout-Ms", "abc"), "malformed");
			assertRejected(http.get("/test/echo", "Request-Timeout-Ms", "-5"), "negative");
			assertRejected(http.get("/test/echo", "Request-Timeout-Ms", "9999999999999999"), "overflow");
			assertRejected(http.get("/test/echo", "Request-Timeout-Ms", "9".repeat(10 * 1024)), "too-long");
			assertRejected(http.get("/test/echo", "Request-Timeout-Ms", "1", "Request-Timeout-Ms", "2"), "repeated");
			assertThat(this.runtime.live().size()).as("a rejected request never got a context").isZero();
		}

		@Test
		void aValidBudgetIsStillAccepted() {
			Response response = new TestHttp(this.port).get("/test/echo", "Request-Timeout-Ms", "300");
			assertThat(response.status()).isEqualTo(200);
			assertThat(response.json().get("remainingMs").asLong()).isBetween(0L, 300L);
		}

		private void assertRejected(Response response, String reason) {
			assertThat(response.status()).as(reason).isEqualTo(400);
			assertThat(response.header("Content-Type")).startsWith("application/problem+json");
			JsonNode problem = response.json();
			assertThat(problem.get("reason").asString()).isEqualTo(reason);
			assertThat(problem.get("detail").asString()).contains("Request-Timeout-Ms");
			assertThat(problem.get("requestId").asString()).isEqualTo(response.header("X-Request-Id"));
		}

	}

	@Nested
	@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "reqctx.web.accept-grpc-timeout=true")
	class GrpcTimeout {

		@LocalServerPort
		int port;

		@Autowired
		ContextRuntime runtime;

		@Test
		void aGrpcTimeoutHeaderShortensTheDeadline() {
			TestHttp http = new TestHttp(this.port);
			assertThat(http.get("/test/echo", "grpc-timeout", "250m").json().get("remainingMs").asLong())
				.isBetween(0L, 250L);
			assertThat(http.get("/test/echo", "grpc-timeout", "1S").json().get("remainingMs").asLong())
				.isBetween(500L, 1_000L);
			assertThat(http.get("/test/echo", "grpc-timeout", "2X").json().get("remainingMs").asLong())
				.as("an unknown unit is ignored").isGreaterThan(20_000L);
		}

		@Test
		void ofAllTheBudgetsARequestCarriesTheShortestWins() {
			TestHttp http = new TestHttp(this.port);
			assertThat(http.get("/test/echo", "Request-Timeout-Ms", "5000", "grpc-timeout", "300m",
					"x-envoy-expected-rq-timeout-ms", "2000").json().get("remainingMs").asLong())
				.as("grpc-timeout is the shortest").isBetween(0L, 300L);
			assertThat(http.get("/test/echo", "Request-Timeout-Ms", "5000", "grpc-timeout", "3S",
					"x-envoy-expected-rq-timeout-ms", "400").json().get("remainingMs").asLong())
				.as("Envoy's is the shortest").isBetween(0L, 400L);
			assertThat(http.get("/test/echo", "Request-Timeout-Ms", "350", "grpc-timeout", "3S",
					"x-envoy-expected-rq-timeout-ms", "2000").json().get("remainingMs").asLong())
				.as("reqctx's own is the shortest").isBetween(0L, 350L);
		}

	}

	@Nested
	@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT)
	class EnvoyTimeout {

		@LocalServerPort
		int port;

		@Autowired
		ContextRuntime runtime;

		@Test
		void envoysExpectedTimeoutIsABudgetByDefault() {
			TestHttp http = new TestHttp(this.port);
			assertThat(http.get("/test/echo", "x-envoy-expected-rq-timeout-ms", "450").json().get("remainingMs").asLong())
				.isBetween(0L, 450L);
			assertThat(http.get("/test/echo", "x-envoy-expected-rq-timeout-ms", "90000").json().get("remainingMs")
				.asLong()).as("a budget never raises the deadline").isLessThanOrEqualTo(30_000L);
			assertThat(http.get("/test/echo", "grpc-timeout", "100m").json().get("remainingMs").asLong())
				.as("grpc-timeout stays off unless enabled").isGreaterThan(20_000L);
		}

		@Test
		void aMalformedEnvoyTimeoutIsAnInvalidBudget() {
			TestHttp http = new TestHttp(this.port);
			assertThat(http.get("/test/echo", "x-envoy-expected-rq-timeout-ms", "soon").json().get("remainingMs")
				.asLong()).as("ignored, like any malformed budget").isGreaterThan(20_000L);
			assertThat(http.get("/test/echo", "Request-Timeout-Ms", "800", "x-envoy-expected-rq-timeout-ms", "soon")
				.json().get("remainingMs").asLong()).as("a malformed header never raises a good one")
				.isBetween(0L, 800L);
		}

	}

	@Nested
	@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "reqctx.web.problem-responses=false")
	class ProblemResponsesOff {

		@LocalServerPort
		int port;

		@Autowired
		ContextRuntime runtime;

		@Test
		void aCancelledRequestFallsBackToTheApplicationsOwnErrorHandlingWithTheRightStatus() {
			Response response = new TestHttp(this.port).get("/test/await-cancel", "Request-Timeout-Ms", "100");
			// Issue #12: it used to be a 500; the application renders it now, but as a 504.
			assertThat(response.status()).isEqualTo(504);
			assertThat(response.header("Content-Type")).doesNotStartWith("application/problem+json");
			assertThat(response.json().get("status").asInt()).as("Boot's own error body").isEqualTo(504);
			assertThat(response.json().get("path").asString()).isEqualTo("/test/await-cancel");
		}

	}

	@Nested
	@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "reqctx.enabled=false")
	class Disabled {

		@LocalServerPort
		int port;

		@Test
		void noContextNoRequestIdNoDeadline() {
			Response response = new TestHttp(this.port).get("/test/echo", "Request-Timeout-Ms", "300");
			assertThat(response.header("X-Request-Id")).isNull();
			JsonNode body = response.json();
			assertThat(body.get("contextId").asString()).isEqualTo("root");
			assertThat(body.get("remainingMs").isNull()).isTrue();
		}

	}

}
