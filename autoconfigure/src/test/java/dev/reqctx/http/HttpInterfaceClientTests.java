package dev.reqctx.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dev.reqctx.testsupport.TestHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.support.RestClientAdapter;
import org.springframework.web.service.annotation.GetExchange;
import org.springframework.web.service.invoker.HttpServiceProxyFactory;
import org.springframework.web.service.registry.ImportHttpServices;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP interface clients over real sockets: an {@code @HttpExchange} interface in one of Boot
 * 4's HTTP service groups ({@code @ImportHttpServices}, {@code spring.http.serviceclient.*}),
 * and one built by hand on Boot's {@code RestClient.Builder}, both send the caller's budget,
 * and a call to a server that never answers is aborted at the caller's deadline, which answers
 * 504.
 */
@SpringBootTest(classes = HttpInterfaceClientTests.InterfaceClientApplication.class,
		webEnvironment = WebEnvironment.RANDOM_PORT, properties = "spring.application.name=http-interface-tests")
class HttpInterfaceClientTests {

	private static final TestHttpServer ANSWERING = start(true);

	private static final TestHttpServer SILENT = start(false);

	@DynamicPropertySource
	static void groups(DynamicPropertyRegistry registry) {
		registry.add("spring.http.serviceclient.prices.base-url", () -> "http://127.0.0.1:" + ANSWERING.port());
		registry.add("spring.http.serviceclient.stuck.base-url", () -> "http://127.0.0.1:" + SILENT.port());
	}

	@AfterAll
	static void stopServers() throws IOException {
		ANSWERING.close();
		SILENT.close();
	}

	@LocalServerPort
	int port;

	@Test
	void aServiceGroupClientSendsTheBudget() throws Exception {
		assertThat(new TestHttp(this.port).get("/quote/group", "Request-Timeout-Ms", "2000").status()).isEqualTo(200);
		TestHttpServer.RecordedRequest seen = ANSWERING.takeRequest(Duration.ofSeconds(5));
		assertThat(seen.requestLine()).startsWith("GET /price");
		assertThat(Long.parseLong(seen.header("Request-Timeout-Ms"))).isBetween(1L, 1990L);
	}

	@Test
	void aHandBuiltInterfaceClientSendsTheBudget() throws Exception {
		assertThat(new TestHttp(this.port).get("/quote/manual", "Request-Timeout-Ms", "1500").status()).isEqualTo(200);
		TestHttpServer.RecordedRequest seen = ANSWERING.takeRequest(Duration.ofSeconds(5));
		assertThat(Long.parseLong(seen.header("Request-Timeout-Ms"))).isBetween(1L, 1490L);
	}

	@Test
	void aCallToAServerThatNeverAnswersIsAbortedAtTheDeadline() throws Exception {
		long start = System.nanoTime();
		TestHttp.Response response = new TestHttp(this.port).get("/quote/stuck", "Request-Timeout-Ms", "300");
		long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
		assertThat(response.status()).isEqualTo(504);
		assertThat(response.json().path("cause").asString()).isEqualTo("DEADLINE_EXCEEDED");
		assertThat(tookMs).as("answered at the 300 ms deadline, not the client's read timeout").isLessThan(5000);
		SILENT.awaitClientClose(Duration.ofSeconds(5)); // fails unless the exchange's connection was closed
	}

	private static TestHttpServer start(boolean answer) {
		try {
			return answer ? TestHttpServer.answering() : TestHttpServer.silent();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/** The price service's API. */
	public interface PriceApi {

		@GetExchange("/price")
		String price();

	}

	/** A service that never answers. */
	public interface StuckApi {

		@GetExchange("/price")
		String price();

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@ImportHttpServices(group = "prices", types = PriceApi.class)
	@ImportHttpServices(group = "stuck", types = StuckApi.class)
	@Import(QuoteController.class)
	static class InterfaceClientApplication {

	}

	@RestController
	static class QuoteController {

		private final PriceApi group;

		private final StuckApi stuck;

		private final PriceApi manual;

		QuoteController(PriceApi group, StuckApi stuck, RestClient.Builder builder) {
			this.group = group;
			this.stuck = stuck;
			RestClient client = builder.baseUrl("http://127.0.0.1:" + ANSWERING.port()).build();
			this.manual = HttpServiceProxyFactory.builderFor(RestClientAdapter.create(client))
				.build()
				.createClient(PriceApi.class);
		}

		@GetMapping("/quote/group")
		String group() {
			return this.group.price();
		}

		@GetMapping("/quote/manual")
		String manual() {
			return this.manual.price();
		}

		@GetMapping("/quote/stuck")
		String stuck() {
			return this.stuck.price();
		}

	}

}
