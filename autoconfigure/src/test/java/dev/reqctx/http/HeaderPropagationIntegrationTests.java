package dev.reqctx.http;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.reqctx.testsupport.TestHttp;
import jakarta.servlet.http.HttpServletRequest;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End to end over real HTTP: the filter captures the configured inbound headers and Boot's
 * {@code RestClient} sends them to an internal host with the request id and the shrunken budget.
 */
@SpringBootTest(classes = HeaderPropagationIntegrationTests.ForwardingApplication.class,
		webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "reqctx.http.propagate-headers=X-Tenant", "reqctx.http.internal-hosts=127.0.0.1" })
class HeaderPropagationIntegrationTests {

	@LocalServerPort
	int port;

	@Test
	void configuredInboundHeadersTheRequestIdAndTheBudgetGoDownstream() {
		JsonNode seen = new TestHttp(this.port)
			.get("/forward", "X-Tenant", "acme", "X-Secret", "do-not-forward", "X-Request-Id", "prop-1",
					"Request-Timeout-Ms", "2000")
			.json();
		assertThat(seen.get("tenant").asString()).isEqualTo("acme");
		assertThat(seen.get("secret").isNull()).as("only configured headers are copied").isTrue();
		assertThat(seen.get("requestId").asString()).isEqualTo("prop-1");
		assertThat(seen.get("budget").asLong()).isBetween(1L, 1_990L);
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(ForwardingController.class)
	static class ForwardingApplication {

	}

	@RestController
	static class ForwardingController {

		private final RestClient client;

		ForwardingController(RestClient.Builder builder) {
			this.client = builder.build();
		}

		@GetMapping("/forward")
		JsonNode forward(HttpServletRequest request) {
			return this.client.get()
				.uri("http://127.0.0.1:{port}/headers", request.getLocalPort())
				.retrieve()
				.body(JsonNode.class);
		}

		@GetMapping("/headers")
		Map<String, Object> headers(HttpServletRequest request) {
			Map<String, Object> seen = new LinkedHashMap<>();
			seen.put("tenant", request.getHeader("X-Tenant"));
			seen.put("secret", request.getHeader("X-Secret"));
			seen.put("requestId", request.getHeader("X-Request-Id"));
			seen.put("budget", Long.valueOf(request.getHeader("Request-Timeout-Ms")));
			return seen;
		}

	}

}
