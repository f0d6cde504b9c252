package dev.reqctx.web;

import dev.reqctx.testsupport.TestHttp;
import dev.reqctx.testsupport.TestHttp.Response;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cancelled requests answered the way Spring answers its own errors, over real HTTP: browsers
 * get the application's error page with the status, API clients an RFC 9457 body from the
 * application's converters and messages, the application's own handlers for reqctx's exception
 * and for Spring's error responses are used, and a catch-all never turns a deadline into a 500.
 */
class ErrorResponsesIntegrationTests {

	/** What Chrome sends for a page. */
	static final String BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";


	/** A request to work that outlives a 150 ms budget. */
	static Response work(int port, String... headers) {
		String[] all = new String[headers.length + 2];
		all[0] = "Request-Timeout-Ms";
		all[1] = "150";
		System.arraycopy(headers, 0, all, 2, headers.length);
		return new TestHttp(port).get("/work", all);
	}

	@Nested
	@SpringBootTest(classes = ErrorHandlingTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "server.address=127.0.0.1", "spring.web.resources.static-locations=classpath:/errorpages/",
					"spring.messages.basename=reqctx-test-messages" })
	@ActiveProfiles("catch-all")
	class WithACatchAllHandler {

		@LocalServerPort
		int port;

		@Test
		void aBrowserGetsTheApplicationsErrorPageWith504() {
			Response response = work(this.port, "Accept", BROWSER);
			assertThat(response.status()).isEqualTo(504);
			assertThat(response.header("Content-Type")).startsWith("text/html");
			assertThat(response.body()).contains("The application's own 504 page");
		}

		@Test
		void anApiClientGetsAProblemWithTheApplicationsMessages() {
			Response response = work(this.port, "Accept", "application/json",
					"X-Request-Id", "api-1");
			assertThat(response.status()).isEqualTo(504);
			assertThat(response.header("Content-Type")).startsWith("application/problem+json");
			JsonNode problem = response.json();
			assertThat(problem.get("status").asInt()).isEqualTo(504);
			assertThat(problem.get("title").asString()).isEqualTo("Out of time");
			assertThat(problem.get("detail").asString())
				.matches("The answer was not ready within its budget \\(DEADLINE_EXCEEDED after \\d+ ms\\)\\.");
			assertThat(problem.get("instance").asString()).isEqualTo("/work");
			assertThat(problem.get("cause").asString()).isEqualTo("DEADLINE_EXCEEDED");
			assertThat(problem.get("requestId").asString()).isEqualTo("api-1");
			assertThat(problem.get("contextId").asString()).isNotBlank();
			assertThat(problem.get("elapsedMs").asLong()).isPositive();
		}

		@Test
		void aClientWithNoPreferenceGetsTheProblemToo() {
			Response response = work(this.port);
			assertThat(response.status()).isEqualTo(504);
			assertThat(response.header("Content-Type")).startsWith("application/problem+json");
		}

	}

	@Nested
	@SpringBootTest(classes = ErrorHandlingTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "server.address=127.0.0.1", "spring.web.resources.static-locations=classpath:/errorpages/",
					"reqctx.web.problem-responses=false" })
	@ActiveProfiles("catch-all")
	class WithProblemResponsesOff {

		@LocalServerPort
		int port;

		@Test
		void theApplicationsErrorHandlingRendersTheRightStatus() {
			Response page = work(this.port, "Accept", BROWSER);
			assertThat(page.status()).isEqualTo(504);
			assertThat(page.body()).contains("The application's own 504 page");
			Response api = work(this.port, "Accept", "application/json");
			assertThat(api.status()).isEqualTo(504);
			assertThat(api.header("Content-Type")).startsWith("application/json");
			assertThat(api.json().get("status").asInt()).as("Boot's error body").isEqualTo(504);
		}

	}

	@Nested
	@SpringBootTest(classes = ErrorHandlingTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "server.address=127.0.0.1")
	@ActiveProfiles("deadline-handler")
	class WithAHandlerForReqctxsException {

		@LocalServerPort
		int port;

		@Test
		void theApplicationsHandlerAnswers() {
			Response response = work(this.port, "Accept", "application/json");
			assertThat(response.status()).isEqualTo(504);
			assertThat(response.json().get("handledBy").asString()).isEqualTo("application");
		}

	}

	@Nested
	@SpringBootTest(classes = ErrorHandlingTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "server.address=127.0.0.1")
	@ActiveProfiles("problem-handler")
	class WithAResponseEntityExceptionHandler {

		@LocalServerPort
		int port;

		@Test
		void itRendersTheCancellationAsAnErrorResponse() {
			Response response = work(this.port, "Accept", "application/json");
			assertThat(response.status()).isEqualTo(504);
			assertThat(response.header("X-Handled-By")).isEqualTo("application-problem-handler");
			assertThat(response.json().get("cause").asString()).isEqualTo("DEADLINE_EXCEEDED");
		}

	}

	@Nested
	@SpringBootTest(classes = ErrorHandlingTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "server.address=127.0.0.1", "spring.mvc.problemdetails.enabled=true" })
	class WithBootsProblemDetails {

		@LocalServerPort
		int port;

		@Test
		void bootsProblemDetailsHandlerRendersTheCancellation() {
			Response response = work(this.port, "Accept", "application/json",
					"X-Request-Id", "pd-1");
			assertThat(response.status()).isEqualTo(504);
			assertThat(response.header("Content-Type")).startsWith("application/problem+json");
			assertThat(response.json().get("requestId").asString()).isEqualTo("pd-1");
		}

	}

}
