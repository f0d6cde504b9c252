package dev.reqctx.jdbc;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.reqctx.testsupport.PostgresServer;
import dev.reqctx.testsupport.TestHttp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A graceful shutdown with a request in the middle of a 30 s statement on PostgreSQL and a 2 s
 * grace period: the request is cancelled with cause SHUTDOWN before the grace period ends, so it
 * answers 503 and its statement is cancelled on the server, instead of being cut off with the
 * connection when the web server stops.
 */
@ExtendWith(OutputCaptureExtension.class)
class GracefulShutdownTests {

	private final PostgresServer pg = PostgresServer.get();

	@Test
	void inFlightSqlIsCancelledAndAnsweredBeforeTheGracePeriodEnds(CapturedOutput output) throws Exception {
		ConfigurableApplicationContext app = start("reqctx.shutdown.enabled=true");
		int port = ((WebServerApplicationContext) app).getWebServer().getPort();
		String tag = "graceful-shutdown-" + System.nanoTime();
		CompletableFuture<TestHttp.Response> response = new TestHttp(port)
			.getAsync("/sql/sleep?seconds=30&tag=" + tag, "Request-Timeout-Ms", "60000");
		assertThat(this.pg.awaitActive("%" + tag + "%", 1, Duration.ofSeconds(10))).isTrue();
		long start = System.nanoTime();
		CompletableFuture<Void> closed = CompletableFuture.runAsync(app::close);
		TestHttp.Response answer = response.get(10, TimeUnit.SECONDS);
		long answeredMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
		assertThat(answer.status()).isEqualTo(503);
		assertThat(answer.json().path("cause").asText()).isEqualTo("SHUTDOWN");
		// Cancelled 1 s (the default margin) before the 2 s grace period ends: the answer comes
		// at about 1 s; 2 s is when the web server would stop waiting and cut the connection.
		assertThat(answeredMs).as("answered before the grace period ended").isLessThan(2000);
		assertThat(this.pg.awaitNoActive("%" + tag + "%", Duration.ofSeconds(5)))
			.as("the statement was cancelled on the server").isTrue();
		closed.get(30, TimeUnit.SECONDS);
		assertThat(output).contains("will be cancelled (SHUTDOWN)").contains("Cancelled 1 unit(s) of work");
	}

	private ConfigurableApplicationContext start(String setting) {
		PostgresServer server = PostgresServer.get();
		return new SpringApplicationBuilder(JdbcWebTestApplication.class)
			.properties("server.port=0", "server.address=127.0.0.1", "spring.main.banner-mode=off",
					"spring.application.name=graceful-shutdown-tests", "server.shutdown=graceful",
					"spring.lifecycle.timeout-per-shutdown-phase=2s", "reqctx.web.max-timeout=60s",
					"spring.datasource.url=" + server.jdbcUrl(), "spring.datasource.username=" + server.username(),
					"spring.datasource.password=" + server.password(), setting)
			.run();
	}

}
