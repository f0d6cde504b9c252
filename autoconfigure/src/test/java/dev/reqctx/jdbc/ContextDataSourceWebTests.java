package dev.reqctx.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import dev.reqctx.testsupport.PostgresServer;
import dev.reqctx.testsupport.TestHttp;
import dev.reqctx.testsupport.TestHttp.Response;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests of JDBC cancellation as a client of the service sees it: over HTTP, with the request
 * filter, the actuator endpoint and a real PostgreSQL behind a pool of 5.
 */
class ContextDataSourceWebTests {

	private static final AtomicLong TAGS = new AtomicLong();

	abstract static class WebTests {

		final PostgresServer pg = PostgresServer.get();

		@LocalServerPort
		int port;

		TestHttp http;

		@DynamicPropertySource
		static void postgres(DynamicPropertyRegistry registry) {
			JdbcWebTestApplication.postgres(registry);
		}

		@BeforeEach
		void setUp() {
			this.http = new TestHttp(this.port);
			// A cold first request (class loading, the first problem response) is not what is measured.
			this.http.get("/sql/sleep?seconds=0.2&tag=warmup", "Request-Timeout-Ms", "50");
			assertThat(this.http.get("/sql/fast").status()).isEqualTo(200);
		}

		static String tag(String name) {
			return "reqctx-web-" + name + "-" + TAGS.incrementAndGet();
		}

		/**
		 * Sends 20 requests with 300 ms budgets that each sleep 30 s in SQL, then one fast
		 * request.
		 * @param reqctx whether the application runs with reqctx's JDBC integration
		 * @return how long the fast request took, or -1 if it did not answer within a second
		 */
		long poolStorm(boolean reqctx) throws Exception {
			String tag = tag("storm");
			List<CompletableFuture<Response>> slow = new ArrayList<>();
			try {
				for (int i = 0; i < 20; i++) {
					slow.add(this.http.getAsync("/sql/sleep?seconds=30&tag=" + tag, "Request-Timeout-Ms", "300"));
				}
				if (reqctx) {
					// The slow requests may be cancelled before all five connections are busy on a
					// loaded machine: wait for that at most briefly, then send the fast one anyway.
					this.pg.awaitActive("%" + tag + "%", 5, Duration.ofMillis(250));
				}
				else {
					assertThat(this.pg.awaitActive("%" + tag + "%", 5, Duration.ofSeconds(10))).isTrue();
				}
				long start = System.nanoTime();
				CompletableFuture<Response> fast = this.http.getAsync("/sql/fast");
				try {
					assertThat(fast.get(1, TimeUnit.SECONDS).status()).isEqualTo(200);
					return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
				}
				catch (TimeoutException ex) {
					return -1;
				}
			}
			finally {
				// Without reqctx the sleeps hold the pool for 30 s, and each request waiting for a
				// connection starts another: end them on the server until every request is done.
				CompletableFuture<Void> all = CompletableFuture.allOf(slow.toArray(CompletableFuture[]::new))
					.handle((result, ex) -> null);
				await("every slow request ended").atMost(Duration.ofSeconds(30))
					.pollDelay(Duration.ZERO)
					.pollInterval(Duration.ofMillis(100))
					.until(() -> {
						terminateActive(tag);
						return all.isDone();
					});
			}
		}

		private void terminateActive(String tag) throws SQLException {
			try (Connection connection = this.pg.connect();
					PreparedStatement statement = connection.prepareStatement("SELECT pg_terminate_backend(pid) "
							+ "FROM pg_stat_activity WHERE state = 'active' AND query LIKE ? AND pid <> pg_backend_pid()")) {
				statement.setString(1, "%" + tag + "%");
				statement.executeQuery().close();
			}
		}

	}

	@Nested
	@SpringBootTest(classes = JdbcWebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT)
	class WithReqctx extends WebTests {

		@Autowired
		MeterRegistry meters;

		@Test
		void requestWithA300MillisecondBudgetAnswers504AndItsQueryIsGoneFromTheServer() throws Exception {
			String tag = tag("deadline");
			long sent = System.nanoTime();
			Response response = this.http.get("/sql/sleep?seconds=30&tag=" + tag, "Request-Timeout-Ms", "300");
			long answered = System.nanoTime();
			int active = this.pg.countActive("%" + tag + "%");
			assertThat(response.status()).isEqualTo(504);
			assertThat(response.json().get("cause").asString()).isEqualTo("DEADLINE_EXCEEDED");
			assertThat(active).as("the query is gone from the server when the 504 arrives").isZero();
			// 700 ms after the deadline: a PostgreSQL cancel takes 50-400 ms per attempt on two
			// loaded cores (2-5 ms quiet), and the request crosses HTTP twice.
			assertThat(Duration.ofNanos(answered - sent)).as("answered within 700 ms of the 300 ms budget")
				.isLessThan(Duration.ofMillis(1000));
			assertThat(this.meters.get("reqctx.operations.cancelled").tag("operation", "jdbc")
				.tag("cause", "DEADLINE_EXCEEDED").counter().count()).isPositive();
			assertThat(this.meters.get("reqctx.cancel.latency").tag("operation", "jdbc").timer().count()).isPositive();
		}

		@Test
		void runningSqlShowsInTheLiveTreeAndAnOperatorCancelStopsIt() throws Exception {
			String tag = tag("operator");
			CompletableFuture<Response> response = this.http.getAsync("/sql/sleep?seconds=30&tag=" + tag,
					"Request-Timeout-Ms", "20000", "X-Request-Id", tag);
			assertThat(this.pg.awaitActive("%" + tag + "%", 1, Duration.ofSeconds(10))).isTrue();
			JsonNode listed = this.http.get("/actuator/requestcontexts/" + tag).json();
			JsonNode operation = listed.get("operations").get(0);
			assertThat(operation.get("kind").asString()).isEqualTo("jdbc");
			assertThat(operation.get("description").asString())
				.isEqualTo("SELECT 1 FROM pg_sleep(?) /* " + tag + " */");
			assertThat(operation.get("state").asString()).isEqualTo("RUNNING");
			Response cancel = this.http.post("/actuator/requestcontexts/" + listed.get("id").asString());
			assertThat(cancel.status()).isEqualTo(200);
			assertThat(this.pg.awaitNoActive("%" + tag + "%", Duration.ofSeconds(1))).isTrue();
			Response answered = response.get(5, TimeUnit.SECONDS);
			assertThat(answered.status()).isEqualTo(503);
			assertThat(answered.json().get("cause").asString()).isEqualTo("CANCELLED");
		}

		@Test
		void poolOfFiveServesAFastRequestRightAfterTwentySlowOnes() throws Exception {
			long fastMillis = poolStorm(true);
			assertThat(fastMillis).isBetween(0L, 999L);
		}

	}

	@Nested
	@SpringBootTest(classes = JdbcWebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "reqctx.jdbc.enabled=false")
	class WithoutReqctxJdbc extends WebTests {

		@Test
		void poolOfFiveIsExhaustedByTwentySlowRequests() throws Exception {
			assertThat(poolStorm(false)).as("fast request time, -1 if it did not answer within 1 s").isEqualTo(-1);
		}

	}

}
