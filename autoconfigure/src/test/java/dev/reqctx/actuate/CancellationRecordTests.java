package dev.reqctx.actuate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.reqctx.testsupport.FaultProxy;
import dev.reqctx.testsupport.PostgresServer;
import dev.reqctx.testsupport.TestHttp;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.core.task.AsyncTaskExecutor;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The cancel propagation record over HTTP: for a request cancelled at its deadline,
 * {@code /actuator/requestcontexts} shows when each operation and task was signalled and when it
 * returned; a statement whose cancel is lost (a real TCP proxy in front of PostgreSQL drops the
 * cancel requests) and a task that ignores interrupts are stragglers, counted, logged with
 * their thread's stack, and kept in the record after the request ended.
 */
@SpringBootTest(classes = CancellationRecordTests.RecordApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "spring.application.name=cancellation-record-tests",
				"management.endpoints.web.exposure.include=requestcontexts", "reqctx.cancel.straggler-after=300ms",
				"reqctx.jdbc.abort-after=2s", "spring.datasource.hikari.maximum-pool-size=2" })
@ExtendWith(OutputCaptureExtension.class)
class CancellationRecordTests {

	private static final PostgresServer PG = PostgresServer.get();

	private static final FaultProxy PROXY = FaultProxy.start(port(PG.jdbcUrl()));

	@DynamicPropertySource
	static void postgres(DynamicPropertyRegistry registry) {
		registry.add("spring.datasource.url", () -> PG.jdbcUrl().replaceFirst(":\\d+/", ":" + PROXY.port() + "/"));
		registry.add("spring.datasource.username", PG::username);
		registry.add("spring.datasource.password", PG::password);
	}

	@AfterAll
	static void stopProxy() {
		PROXY.close();
	}

	@LocalServerPort
	int port;

	@Autowired
	MeterRegistry meters;

	TestHttp http;

	@BeforeEach
	void setUp() {
		this.http = new TestHttp(this.port);
		assertThat(this.http.get("/fast").status()).isEqualTo(200);
	}

	@AfterEach
	void healTheNetwork() throws Exception {
		PROXY.dropNextConnections(0);
		try (Connection connection = PG.connect();
				PreparedStatement statement = connection.prepareStatement("SELECT pg_terminate_backend(pid) "
						+ "FROM pg_stat_activity WHERE query LIKE '%record-%' AND pid <> pg_backend_pid()")) {
			statement.executeQuery().close();
		}
	}

	@Test
	void aStatementWhoseCancelIsLostIsAStragglerUntilItsConnectionIsAborted(CapturedOutput output) throws Exception {
		String tag = "record-sql-" + System.nanoTime();
		CompletableFuture<TestHttp.Response> response = this.http.getAsync("/sql?tag=" + tag, "X-Request-Id", tag,
				"Request-Timeout-Ms", "400");
		assertThat(PG.awaitActive("%" + tag + "%", 1, Duration.ofSeconds(10))).isTrue();
		// Every cancel request (a new connection to the server) is reset from now on: the
		// statement keeps running until reqctx aborts its connection, 2 s after the deadline.
		PROXY.dropNextConnections(1000);
		assertThat(response.get(20, TimeUnit.SECONDS).status()).isEqualTo(504);
		JsonNode record = awaitRecord(tag, (r) -> r.path("operations").get(0).path("returnedAfterMs").isNumber());
		assertThat(record.path("cause").asText()).isEqualTo("DEADLINE_EXCEEDED");
		assertThat(record.path("path").asText()).isEqualTo("/sql");
		assertThat(record.path("stragglers").asInt()).isEqualTo(1);
		JsonNode step = record.path("operations").get(0);
		assertThat(step.path("kind").asText()).isEqualTo("jdbc");
		assertThat(step.path("description").asText()).contains(tag);
		assertThat(step.path("straggler").asBoolean()).isTrue();
		assertThat(step.path("returnedAfterMs").asLong()).as("returned when its connection was aborted")
			.isBetween(1500L, 10_000L);
		assertThat(step.path("stack").toString()).as("where its thread was at the threshold").contains("org.postgresql");
		assertThat(output).contains("Straggler: jdbc").contains("still runs").contains("Its thread is at:");
		assertThat(stragglers("jdbc")).isGreaterThanOrEqualTo(1);
		assertThat(this.http.get("/actuator/requestcontexts/" + tag).json().path("stragglers").asInt())
			.as("by request id, once the request has ended").isEqualTo(1);
	}

	@Test
	void aTaskThatIgnoresInterruptsIsAStragglerAndAStatementThatStopsIsNot() throws Exception {
		String tag = "record-task-" + System.nanoTime();
		assertThat(this.http.get("/task?tag=" + tag, "X-Request-Id", tag, "Request-Timeout-Ms", "300").status())
			.isEqualTo(504);
		JsonNode record = awaitRecord(tag, (r) -> r.path("operations").size() == 2
				&& r.path("operations").get(0).path("returnedAfterMs").isNumber()
				&& r.path("operations").get(1).path("returnedAfterMs").isNumber());
		JsonNode task = find(record, "task");
		JsonNode sql = find(record, "jdbc");
		assertThat(task.path("straggler").asBoolean()).isTrue();
		assertThat(task.path("returnedAfterMs").asLong()).as("it ran on for its 1.5 s").isGreaterThanOrEqualTo(600L);
		assertThat(task.path("stack").toString()).contains("StubbornController");
		assertThat(sql.path("straggler").asBoolean()).as("its cancel worked: a statement that stopped").isFalse();
		assertThat(sql.path("returnedAfterMs").asLong()).isLessThan(300L);
		assertThat(record.path("stragglers").asInt()).isEqualTo(1);
		assertThat(stragglers("task")).isGreaterThanOrEqualTo(1);
	}

	@Test
	void aRequestThatEndsNormallyLeavesNoRecord() {
		long before = this.http.get("/actuator/requestcontexts").json().path("cancellations").size();
		assertThat(this.http.get("/fast", "X-Request-Id", "record-fast").status()).isEqualTo(200);
		assertThat(this.http.get("/actuator/requestcontexts/record-fast").status()).isEqualTo(404);
		assertThat(this.http.get("/actuator/requestcontexts").json().path("cancellations").size()).isEqualTo(before);
	}

	private JsonNode awaitRecord(String requestId, java.util.function.Predicate<JsonNode> complete) {
		JsonNode[] found = new JsonNode[1];
		await("the cancellation of " + requestId + " recorded").atMost(Duration.ofSeconds(15))
			.pollInterval(Duration.ofMillis(100))
			.until(() -> {
				for (JsonNode record : this.http.get("/actuator/requestcontexts").json().path("cancellations")) {
					if (requestId.equals(record.path("requestId").asText()) && record.path("operations").size() > 0
							&& complete.test(record)) {
						found[0] = record;
						return true;
					}
				}
				return false;
			});
		return found[0];
	}

	private static JsonNode find(JsonNode record, String kind) {
		for (JsonNode step : record.path("operations")) {
			if (kind.equals(step.path("kind").asText())) {
				return step;
			}
		}
		throw new AssertionError("no " + kind + " step in " + record);
	}

	private double stragglers(String operation) {
		Counter counter = this.meters.find("reqctx.cancel.stragglers").tag("operation", operation).counter();
		return (counter != null) ? counter.count() : 0;
	}

	private static int port(String jdbcUrl) {
		Matcher matcher = Pattern.compile(":(\\d+)/").matcher(jdbcUrl);
		assertThat(matcher.find()).isTrue();
		return Integer.parseInt(matcher.group(1));
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(RecordApplication.StubbornController.class)
	static class RecordApplication {

		@RestController
		static class StubbornController {

			private final JdbcTemplate jdbc;

			private final AsyncTaskExecutor executor;

			StubbornController(JdbcTemplate jdbc, AsyncTaskExecutor applicationTaskExecutor) {
				this.jdbc = jdbc;
				this.executor = applicationTaskExecutor;
			}

			@GetMapping("/fast")
			Integer fast() {
				return this.jdbc.queryForObject("SELECT 1", Integer.class);
			}

			@GetMapping("/sql")
			Integer sql(@RequestParam String tag) {
				return this.jdbc.queryForObject("SELECT 1 FROM pg_sleep(30) /* " + tag + " */", Integer.class);
			}

			/** A statement that stops when cancelled, and a task that does not. */
			@GetMapping("/task")
			String task(@RequestParam String tag) throws Exception {
				Future<?> stubborn = this.executor.submit(StubbornController::ignoreInterruptsFor1500Ms);
				this.jdbc.queryForObject("SELECT 1 FROM pg_sleep(30) /* " + tag + " */", Integer.class);
				stubborn.get();
				return "done";
			}

			private static void ignoreInterruptsFor1500Ms() {
				long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
				while (System.nanoTime() - end < 0) {
					try {
						Thread.sleep(20);
					}
					catch (InterruptedException ex) {
						// ignored on purpose: this task does not stop when asked
					}
				}
			}

		}

	}

}
