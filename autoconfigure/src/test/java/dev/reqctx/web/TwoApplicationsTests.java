package dev.reqctx.web;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import dev.reqctx.ContextRuntime;
import dev.reqctx.testsupport.TestHttp.Response;
import dev.reqctx.testsupport.TestHttp;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two applications in one JVM, over real HTTP: each has its own live tree, orphan history and
 * settings, as two application contexts in one test suite do.
 */
class TwoApplicationsTests {

	@Test
	void twoApplicationsInOneJvmDoNotSeeEachOthersRequestsOrSettings() {
		try (ConfigurableApplicationContext first = start("first", 7);
				ConfigurableApplicationContext second = start("second", 3)) {
			ContextRuntime firstRuntime = first.getBean(ContextRuntime.class);
			ContextRuntime secondRuntime = second.getBean(ContextRuntime.class);
			assertThat(firstRuntime).isNotSameAs(secondRuntime);
			assertThat(firstRuntime.orphans().capacity()).as("the second one's leak-history left it alone")
				.isEqualTo(7);
			assertThat(secondRuntime.orphans().capacity()).isEqualTo(3);
			TestHttp firstHttp = http(first);
			TestHttp secondHttp = http(second);
			CompletableFuture<Response> inFirst = firstHttp.getAsync("/test/await-cancel", "X-Request-Id", "only-in-first",
					"Request-Timeout-Ms", "1500");
			await().atMost(Duration.ofSeconds(10)).until(() -> firstRuntime.live().size() == 1);
			// Each listing also shows the listing request itself.
			assertThat(listedRequestIds(firstHttp)).contains("only-in-first").hasSize(2);
			assertThat(secondRuntime.live().size()).isZero();
			assertThat(listedRequestIds(secondHttp)).doesNotContain("only-in-first").hasSize(1);
			assertThat(secondHttp.post("/actuator/requestcontexts/only-in-first").status())
				.as("the second application cannot cancel the first one's request")
				.isEqualTo(404);
			assertThat(inFirst.join().status()).as("it ran to its own deadline").isEqualTo(504);
			await().atMost(Duration.ofSeconds(10)).until(() -> firstRuntime.live().size() == 0);
		}
	}

	private static ConfigurableApplicationContext start(String name, int leakHistory) {
		return new SpringApplicationBuilder(WebTestApplication.class)
			.properties("spring.application.name=" + name, "server.port=0", "server.address=127.0.0.1",
					"spring.main.banner-mode=off", "management.endpoints.web.exposure.include=requestcontexts",
					"management.endpoint.requestcontexts.access=unrestricted",
					"reqctx.task.leak-history=" + leakHistory)
			.run();
	}

	private static TestHttp http(ConfigurableApplicationContext application) {
		return new TestHttp(((WebServerApplicationContext) application).getWebServer().getPort());
	}

	private static List<String> listedRequestIds(TestHttp http) {
		List<String> ids = new ArrayList<>();
		for (JsonNode ctx : http.get("/actuator/requestcontexts").json().get("contexts")) {
			ids.add(ctx.get("requestId").asString());
		}
		return ids;
	}

}
