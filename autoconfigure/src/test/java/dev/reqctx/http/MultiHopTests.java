package dev.reqctx.http;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import dev.reqctx.RequestContext;
import dev.reqctx.testsupport.TestHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.api.Timeout;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A chain of hops through a real embedded server that calls itself with Boot's
 * {@code RestClient.Builder}, the last hop waiting on a server that never answers (it stands
 * in for slow SQL): the budget shrinks at every hop, and when the first hop's deadline passes
 * the whole chain stops, down to the last socket.
 */
@Timeout(value = 60, threadMode = ThreadMode.SEPARATE_THREAD)
class MultiHopTests {

	private static ConfigurableApplicationContext application;

	private static TestHttpServer backend;

	private static int port;

	private final HttpClient caller = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

	@BeforeAll
	static void start() throws IOException {
		backend = TestHttpServer.silent();
		application = new SpringApplicationBuilder(HopApplication.class)
			.properties("server.port=0", "server.address=127.0.0.1", "spring.main.banner-mode=off",
					"management.endpoints.web.exposure.include=requestcontexts",
					"management.endpoint.requestcontexts.access=unrestricted",
					"spring.http.clients.imperative.factory=jdk", "spring.http.clients.read-timeout=10s",
					"reqctx.web.max-timeout=30s", "backend.url=" + backend.uri("/slow"))
			.run();
		port = ((WebServerApplicationContext) application).getWebServer().getPort();
		warmUp();
	}

	/** One short chain first, so that class loading does not eat the measured budget. */
	private static void warmUp() throws IOException {
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hop?depth=3"))
			.header("Request-Timeout-Ms", "300")
			.build();
		try {
			HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.discarding());
			backend.awaitClientClose(Duration.ofSeconds(5));
			backend.takeRequest(Duration.ofSeconds(1));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	@AfterAll
	static void stop() throws IOException {
		if (application != null) {
			application.close();
		}
		if (backend != null) {
			backend.close();
		}
	}

	@BeforeEach
	void reset() {
		application.getBean(HopController.class).budgets.clear();
		application.getBean(HopController.class).deadlines.clear();
	}

	@Test
	void chainAnswers504WithinTheFirstBudgetAndStopsEveryHop() throws Exception {
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hop?depth=3"))
			.header("Request-Timeout-Ms", "500")
			.header("X-Request-Id", "chain-1")
			.build();
		long start = System.nanoTime();
		HttpResponse<String> response = this.caller.send(request, HttpResponse.BodyHandlers.ofString());
		long elapsed = System.nanoTime() - start;
		long closed = backend.awaitClientClose(Duration.ofSeconds(5));
		assertThat(response.statusCode()).as(response.body()).isEqualTo(504);
		assertThat(Duration.ofNanos(elapsed)).isLessThan(Duration.ofSeconds(1));
		Map<Integer, Long> budgets = application.getBean(HopController.class).budgets;
		long firstHopDeadline = application.getBean(HopController.class).deadlines.get(3);
		assertThat(budgets.get(3)).isEqualTo(500);
		assertThat(budgets.get(2)).isPositive().isLessThan(budgets.get(3));
		assertThat(budgets.get(1)).isPositive().isLessThan(budgets.get(2));
		// The last hop's own budget, the smallest, ends its downstream call before the first hop's
		// deadline; the abort itself takes a few milliseconds. The margin is the 500 ms the other
		// abort bounds of this class allow for two loaded cores.
		assertThat(Duration.ofNanos(closed - firstHopDeadline))
			.as("the backend saw the close within 500 ms of the first hop's deadline (budgets by depth %s)", budgets)
			.isLessThan(Duration.ofMillis(500));
	}

	@Test
	void operatorCancelOfTheRootAbortsTheDownstreamCall() throws Exception {
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hop?depth=1"))
			.header("Request-Timeout-Ms", "20000")
			.header("X-Request-Id", "operator-1")
			.build();
		CompletableFuture<HttpResponse<String>> response = this.caller.sendAsync(request,
				HttpResponse.BodyHandlers.ofString());
		backend.takeRequest(Duration.ofSeconds(5)); // the downstream call is in flight
		String id = new TestHttp(port).awaitContextId("operator-1");
		long cancelledAt = System.nanoTime();
		HttpResponse<String> cancel = this.caller.send(
				HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/requestcontexts/" + id))
					.POST(HttpRequest.BodyPublishers.noBody())
					.build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(200);
		long closed = backend.awaitClientClose(Duration.ofSeconds(5));
		assertThat(response.get().statusCode()).as(response.get().body()).isEqualTo(503);
		assertThat(Duration.ofNanos(closed - cancelledAt)).isLessThan(Duration.ofMillis(500));
	}

	@SpringBootConfiguration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	@Import(HopController.class)
	static class HopApplication {

	}

	@RestController
	static class HopController {

		/** The budget each hop received, by depth (the first hop has the largest depth). */
		final Map<Integer, Long> budgets = new ConcurrentHashMap<>();

		/** Each hop's deadline as a {@link System#nanoTime()} value, by depth. */
		final Map<Integer, Long> deadlines = new ConcurrentHashMap<>();

		private final RestClient client;

		private final String backendUrl;

		private final WebServerApplicationContext context;

		HopController(RestClient.Builder builder, WebServerApplicationContext context,
				org.springframework.core.env.Environment environment) {
			this.client = builder.build();
			this.context = context;
			this.backendUrl = environment.getRequiredProperty("backend.url");
		}

		@GetMapping("/hop")
		String hop(@RequestParam int depth, @RequestHeader(name = "Request-Timeout-Ms", required = false) Long budget) {
			if (budget != null) {
				this.budgets.put(depth, budget);
			}
			RequestContext.current().deadline().ifPresent((deadline) -> this.deadlines.put(depth, deadline.nanoTime()));
			String next = (depth > 1)
					? "http://127.0.0.1:" + this.context.getWebServer().getPort() + "/hop?depth=" + (depth - 1)
					: this.backendUrl;
			return this.client.get().uri(next).retrieve().body(String.class);
		}

	}

}
