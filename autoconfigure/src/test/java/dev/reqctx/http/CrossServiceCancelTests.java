package dev.reqctx.http;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.reqctx.testsupport.PostgresServer;
import dev.reqctx.testsupport.RawHttp;
import dev.reqctx.testsupport.TestHttp;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.api.Timeout;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A cancel crosses a hop: two reqctx services on real sockets, the first ({@code edge}) calling
 * the second ({@code orders}) with Boot's {@code RestClient}, the second sleeping in SQL on
 * PostgreSQL. Whatever stops the first hop (an operator's cancel, its own client leaving) aborts
 * its outbound exchange; the second hop sees its client gone and its statement stops on the
 * database, long before either deadline.
 */
@Timeout(value = 60, threadMode = ThreadMode.SEPARATE_THREAD)
class CrossServiceCancelTests {

	private static final AtomicLong TAGS = new AtomicLong();

	private static final PostgresServer pg = PostgresServer.get();

	private static ConfigurableApplicationContext orders;

	private static ConfigurableApplicationContext edge;

	private static int edgePort;

	private final HttpClient caller = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

	@BeforeAll
	static void start() {
		orders = new SpringApplicationBuilder(OrdersApplication.class)
			.properties("server.port=0", "server.address=127.0.0.1", "spring.main.banner-mode=off",
					"spring.application.name=orders", "spring.datasource.url=" + pg.jdbcUrl(),
					"spring.datasource.username=" + pg.username(), "spring.datasource.password=" + pg.password())
			.run();
		int ordersPort = ((WebServerApplicationContext) orders).getWebServer().getPort();
		edge = new SpringApplicationBuilder(EdgeApplication.class)
			.properties("server.port=0", "server.address=127.0.0.1", "spring.main.banner-mode=off",
					"spring.application.name=edge", "management.endpoints.web.exposure.include=requestcontexts",
					"management.endpoint.requestcontexts.access=unrestricted", "spring.http.clients.read-timeout=60s",
					"reqctx.web.default-timeout=20s", "orders.url=http://127.0.0.1:" + ordersPort)
			.run();
		edgePort = ((WebServerApplicationContext) edge).getWebServer().getPort();
	}

	@AfterAll
	static void stop() {
		if (edge != null) {
			edge.close();
		}
		if (orders != null) {
			orders.close();
		}
	}

	@Test
	void anOperatorCancelOnTheFirstHopStopsTheSecondHopsQuery() throws Exception {
		double gone = ordersClientGone();
		String tag = "xsvc-operator-" + TAGS.incrementAndGet();
		CompletableFuture<HttpResponse<String>> response = this.caller.sendAsync(
				HttpRequest.newBuilder(uri("/chain?tag=" + tag)).header("X-Request-Id", tag).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(pg.awaitActive("%" + tag + "%", 1, Duration.ofSeconds(10))).as("hop 2's query runs").isTrue();
		String id = new TestHttp(edgePort).awaitContextId(tag);
		long cancelled = System.nanoTime();
		HttpResponse<String> cancel = this.caller.send(
				HttpRequest.newBuilder(uri("/actuator/requestcontexts/" + id)).POST(HttpRequest.BodyPublishers.noBody())
					.build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(200);
		assertThat(pg.awaitNoActive("%" + tag + "%", Duration.ofSeconds(2)))
			.as("hop 2's query is gone from pg_stat_activity within 2 s of the cancel on hop 1")
			.isTrue();
		long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cancelled);
		assertThat(response.get(5, TimeUnit.SECONDS).statusCode()).isEqualTo(503);
		await().atMost(Duration.ofSeconds(5)).until(() -> ordersClientGone() == gone + 1);
		System.out.println("cross-service: operator cancel on hop 1 to hop 2's query gone " + millis + " ms");
	}

	@Test
	void theFirstHopsClientLeavingStopsTheSecondHopsQuery() throws Exception {
		double gone = ordersClientGone();
		String tag = "xsvc-client-" + TAGS.incrementAndGet();
		RawHttp connection = new RawHttp(edgePort);
		connection.send(connection.get("/chain?tag=" + tag));
		assertThat(pg.awaitActive("%" + tag + "%", 1, Duration.ofSeconds(10))).as("hop 2's query runs").isTrue();
		long closed = System.nanoTime();
		connection.close();
		assertThat(pg.awaitNoActive("%" + tag + "%", Duration.ofSeconds(2)))
			.as("hop 2's query is gone from pg_stat_activity within 2 s of the FIN on hop 1")
			.isTrue();
		long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closed);
		await().atMost(Duration.ofSeconds(5)).until(() -> ordersClientGone() == gone + 1);
		System.out.println("cross-service: FIN on hop 1 to hop 2's query gone " + millis + " ms");
	}

	private static double ordersClientGone() {
		FunctionCounter counter = orders.getBean(MeterRegistry.class)
			.find("reqctx.requests")
			.tag("outcome", "CLIENT_GONE")
			.functionCounter();
		return (counter != null) ? counter.count() : 0;
	}

	private static URI uri(String path) {
		return URI.create("http://127.0.0.1:" + edgePort + path);
	}

	@SpringBootConfiguration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	@Import(EdgeController.class)
	static class EdgeApplication {

	}

	@RestController
	static class EdgeController {

		private final RestClient client;

		EdgeController(RestClient.Builder builder, Environment environment) {
			this.client = builder.baseUrl(environment.getRequiredProperty("orders.url")).build();
		}

		@GetMapping("/chain")
		String chain(@RequestParam String tag) {
			return this.client.get().uri("/sql/sleep?seconds=30&tag={tag}", tag).retrieve().body(String.class);
		}

	}

	@SpringBootConfiguration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	@Import(OrdersController.class)
	static class OrdersApplication {

	}

	@RestController
	static class OrdersController {

		private final JdbcTemplate jdbc;

		OrdersController(JdbcTemplate jdbc) {
			this.jdbc = jdbc;
		}

		@GetMapping("/sql/sleep")
		String sleep(@RequestParam double seconds, @RequestParam String tag) {
			String comment = tag.replaceAll("[^A-Za-z0-9-]", "");
			this.jdbc.queryForObject("SELECT 1 FROM pg_sleep(?) /* " + comment + " */", Integer.class, seconds);
			return "slept";
		}

	}

}
