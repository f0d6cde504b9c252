package dev.reqctx.http;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.reqctx.http.TestHttpServer.RecordedRequest;
import dev.reqctx.testsupport.TestHttp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End to end over real HTTP: a handler calls two hosts through Boot's {@code RestClient} for an
 * inbound request that carries a request id and a tenant. The host declared in
 * {@code reqctx.http.internal-hosts} ({@code 127.0.0.1}) gets both and the budget; the other
 * ({@code localhost}, the same machine under another name) gets the budget only, and the
 * application logs once that it held the others back.
 */
@ExtendWith(OutputCaptureExtension.class)
@SpringBootTest(classes = InternalHostsIntegrationTests.CallingApplication.class,
		webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "server.address=127.0.0.1", "reqctx.http.propagate-headers=X-Tenant",
				"reqctx.http.internal-hosts=127.0.0.1", "spring.http.clients.read-timeout=5s" })
class InternalHostsIntegrationTests {

	private static final Duration WAIT = Duration.ofSeconds(3);

	@LocalServerPort
	int port;

	private TestHttpServer internal;

	private TestHttpServer external;

	@BeforeEach
	void startServers() throws IOException {
		this.internal = TestHttpServer.answering(); // on 127.0.0.1
		// The client resolves "localhost" to its first address: listen on that one, whether it
		// is 127.0.0.1 or ::1 on this machine, so the call reaches this server either way.
		InetAddress localhost = InetAddress.getByName("localhost");
		assertThat(localhost.isLoopbackAddress()).as("localhost is %s", localhost).isTrue();
		this.external = TestHttpServer.answering(localhost);
	}

	@AfterEach
	void stopServers() throws IOException {
		this.internal.close();
		this.external.close();
	}

	@Test
	void onlyTheInternalHostGetsTheRequestIdAndTheTenantAndBothGetTheBudget(CapturedOutput output) throws Exception {
		TestHttp http = new TestHttp(this.port);
		for (int i = 1; i <= 2; i++) {
			TestHttp.Response response = http.get(
					"/call-both?internal=" + this.internal.port() + "&external=" + this.external.port(), "X-Request-Id",
					"two-hosts-" + i, "X-Tenant", "acme", "Request-Timeout-Ms", "2000");
			assertThat(response.status()).as(response.body()).isEqualTo(200);
			RecordedRequest toInternal = this.internal.takeRequest(WAIT);
			assertThat(toInternal.requestLine()).startsWith("GET /internal ");
			assertThat(toInternal.header("X-Request-Id")).isEqualTo("two-hosts-" + i);
			assertThat(toInternal.header("X-Tenant")).isEqualTo("acme");
			assertThat(Long.parseLong(toInternal.header("Request-Timeout-Ms"))).isBetween(1L, 1_990L);
			RecordedRequest toExternal = this.external.takeRequest(WAIT);
			assertThat(toExternal.requestLine()).startsWith("GET /external ");
			assertThat(toExternal.header("Host")).startsWith("localhost:");
			assertThat(Long.parseLong(toExternal.header("Request-Timeout-Ms"))).isBetween(1L, 1_990L);
			assertThat(toExternal.headers()).doesNotContainKeys("x-request-id", "x-tenant");
		}
		String line = "Not sending X-Request-Id, X-Tenant to localhost:" + this.external.port()
				+ ": not in reqctx.http.internal-hosts (logged once per host)";
		assertThat(occurrences(output.getAll(), "Not sending ")).as(output.getAll()).isOne();
		assertThat(output.getAll()).contains(line);
	}

	private static int occurrences(String text, String part) {
		Matcher matcher = Pattern.compile(Pattern.quote(part)).matcher(text);
		int count = 0;
		while (matcher.find()) {
			count++;
		}
		return count;
	}

	@SpringBootConfiguration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	@Import(CallingController.class)
	static class CallingApplication {

	}

	@RestController
	static class CallingController {

		private final RestClient client;

		CallingController(RestClient.Builder builder) {
			this.client = builder.build();
		}

		@GetMapping("/call-both")
		String callBoth(@RequestParam int internal, @RequestParam int external) {
			this.client.get().uri("http://127.0.0.1:{port}/internal", internal).retrieve().toBodilessEntity();
			this.client.get().uri("http://localhost:{port}/external", external).retrieve().toBodilessEntity();
			return "called both";
		}

	}

}
