package dev.reqctx.actuate;

import dev.reqctx.testsupport.TestHttp;
import dev.reqctx.testsupport.TestHttp.Response;
import dev.reqctx.web.WebTestApplication;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which callers of {@code GET /actuator/requestcontexts} get the live view and which get JSON,
 * over real HTTP, with the live view on and off.
 */
class LiveViewContentNegotiationTests {

	/** What Chromium sends for a navigation. */
	static final String BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
			+ "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";

	static final String ACTUATOR_JSON = "application/vnd.spring-boot.actuator.v3+json";

	abstract static class NegotiationTests {

		@LocalServerPort
		int port;

		TestHttp http;

		@BeforeEach
		void setUp() {
			this.http = new TestHttp(this.port);
		}

		Response list(String accept) {
			return (accept != null) ? this.http.get("/actuator/requestcontexts", "Accept", accept)
					: this.http.get("/actuator/requestcontexts");
		}

		static void assertJsonList(Response response, String contentType) {
			assertThat(response.status()).as("%s", response).isEqualTo(200);
			assertThat(response.header("Content-Type")).isEqualTo(contentType);
			JsonNode body = response.json();
			assertThat(body.propertyNames()).containsExactly("total", "contexts", "leaks", "unbound", "cancellations");
			assertThat(body.get("contexts").isArray()).isTrue();
		}

		@Test
		void jsonClientsGetJsonAsBefore() {
			assertJsonList(list(null), ACTUATOR_JSON);
			assertJsonList(list("*/*"), ACTUATOR_JSON);
			assertJsonList(list(ACTUATOR_JSON), ACTUATOR_JSON);
			assertJsonList(list("application/json"), "application/json");
			assertJsonList(list("application/json, text/html;q=0.5"), "application/json");
		}

		@Test
		void oneContextIsJsonOnlyWhateverTheCallerAsksFor() {
			assertThat(this.http.get("/actuator/requestcontexts/nope", "Accept", BROWSER_ACCEPT).status()).isEqualTo(404);
			assertThat(this.http.get("/actuator/requestcontexts/nope", "Accept", "text/html").status()).isEqualTo(406);
		}

		@Test
		void theActuatorRootStillLinksTheEndpoint() {
			Response root = this.http.get("/actuator");
			assertThat(root.status()).isEqualTo(200);
			assertThat(root.json().get("_links").get("requestcontexts").get("href").asString())
				.endsWith("/actuator/requestcontexts");
		}

	}

	@Nested
	@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "management.endpoints.web.exposure.include=requestcontexts")
	class LiveViewOff extends NegotiationTests {

		@Test
		void aBrowserGetsJsonAndAnHtmlOnlyCallerGets406AsBefore() {
			assertJsonList(list(BROWSER_ACCEPT), ACTUATOR_JSON);
			assertThat(list("text/html").status()).isEqualTo(406);
		}

	}

	@Nested
	@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "management.endpoints.web.exposure.include=requestcontexts",
					"management.endpoint.requestcontexts.html.enabled=true" })
	class LiveViewOn extends NegotiationTests {

		@Test
		void aBrowserGetsTheLiveView() {
			for (String accept : new String[] { BROWSER_ACCEPT, "text/html" }) {
				Response page = list(accept);
				assertThat(page.status()).isEqualTo(200);
				assertThat(page.header("Content-Type")).isEqualTo("text/html;charset=UTF-8");
				assertThat(page.body()).startsWith("<!DOCTYPE html>").contains("<title>reqctx live view</title>");
			}
		}

		@Test
		void theLiveViewAllowsOnlyItsOwnScriptAndStyleAndIsNeverCached() {
			Response page = list("text/html");
			assertThat(page.header("Content-Security-Policy")).startsWith("default-src 'none'; script-src 'sha256-")
				.contains("; style-src 'sha256-")
				.contains("connect-src 'self'")
				.doesNotContain("unsafe");
			assertThat(page.header("X-Content-Type-Options")).isEqualTo("nosniff");
			assertThat(page.header("Cache-Control")).isEqualTo("no-store");
			assertThat(page.header("Vary")).contains("Accept");
		}

		@Test
		void thePageLoadsNothingFromElsewhere() {
			String html = list("text/html").body();
			assertThat(html).doesNotContainPattern("(?i)(src|href)\\s*=")
				.doesNotContainPattern("(?i)https?://")
				.doesNotContainPattern("@import|url\\(")
				.doesNotContain("innerHTML")
				.doesNotContain("insertAdjacentHTML")
				.doesNotContain("document.write");
		}

	}

}
