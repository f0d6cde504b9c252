package dev.reqctx.actuate;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.reqctx.ContextRuntime;
import dev.reqctx.LiveContexts;
import dev.reqctx.http.TestHttpServer;
import dev.reqctx.testsupport.PostgresServer;
import dev.reqctx.testsupport.TestHttp.Response;
import dev.reqctx.testsupport.TestHttp;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.api.Timeout;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Each reqctx meter moves as the README documents it when its scenario runs: real requests over
 * a real socket to a real embedded server, meters read from the application's registry.
 */
@Timeout(value = 120, threadMode = ThreadMode.SEPARATE_THREAD)
class MetersIntegrationTests {

	private static ConfigurableApplicationContext application;

	private static TestHttpServer backend;

	private static MeterRegistry registry;

	private static TestHttp http;

	@BeforeAll
	static void start() throws IOException {
		backend = TestHttpServer.silent();
		PostgresServer pg = PostgresServer.get();
		application = new SpringApplicationBuilder(MetersTestApplication.class)
			.properties("server.port=0", "server.address=127.0.0.1", "spring.main.banner-mode=off",
					"management.endpoints.web.exposure.include=requestcontexts",
					"management.endpoint.requestcontexts.access=unrestricted",
					"spring.http.clients.imperative.factory=jdk", "spring.http.clients.read-timeout=10s",
					// One pool thread, so a second task queues behind the first.
					"spring.task.execution.pool.core-size=1", "spring.task.execution.pool.max-size=1",
					"backend.url=" + backend.uri(""), "spring.datasource.url=" + pg.jdbcUrl(),
					"spring.datasource.username=" + pg.username(), "spring.datasource.password=" + pg.password())
			.run();
		registry = application.getBean(MeterRegistry.class);
		http = new TestHttp(((WebServerApplicationContext) application).getWebServer().getPort());
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

	@AfterEach
	void noRequestLeftInFlight() {
		await().atMost(Duration.ofSeconds(10)).until(() -> application.getBean(ContextRuntime.class).live().size() == 0);
		assertThat(gauge("reqctx.requests.active")).isZero();
	}

	@Test
	void aNormalRequestCountsAsCompletedUnderItsRouteTemplate() {
		double before = count("reqctx.requests", "outcome", "COMPLETED", "route", "/m/items/{id}");
		assertThat(http.get("/m/items/42").status()).isEqualTo(200);
		assertThat(http.get("/m/items/43").status()).isEqualTo(200);
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(count("reqctx.requests", "outcome", "COMPLETED", "route", "/m/items/{id}"))
				.isEqualTo(before + 2));
		assertThat(routeTags()).noneMatch((route) -> route.contains("42") || route.contains("43"));
	}

	@Test
	void aRequestThatMatchesNoHandlerGetsABoundedRoute() {
		Response response = http.get("/m/no/such/thing/9f1c");
		assertThat(response.status()).isEqualTo(404);
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(count("reqctx.requests", "outcome", "COMPLETED", "route", "NOT_FOUND"))
				.as("routes %s", routeTags())
				.isPositive());
		assertThat(routeTags()).noneMatch((route) -> route.contains("9f1c") || route.contains("/m/no"));
	}

	@Test
	void theActiveGaugeCountsARequestWhileItIsInFlightAndA504CountsAsDeadlineExceeded() throws Exception {
		double before = count("reqctx.requests", "outcome", "DEADLINE_EXCEEDED", "route", "/m/await-cancel");
		CompletableFuture<Response> response = http.getAsync("/m/await-cancel", "Request-Timeout-Ms", "1500");
		await().atMost(Duration.ofSeconds(10)).until(() -> gauge("reqctx.requests.active") >= 1);
		assertThat(response.get(10, TimeUnit.SECONDS).status()).isEqualTo(504);
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(
					count("reqctx.requests", "outcome", "DEADLINE_EXCEEDED", "route", "/m/await-cancel"))
				.isEqualTo(before + 1));
	}

	@Test
	void anOperatorCancelCountsAsCancelled() throws Exception {
		double before = count("reqctx.requests", "outcome", "CANCELLED", "route", "/m/await-cancel");
		CompletableFuture<Response> response = http.getAsync("/m/await-cancel", "X-Request-Id", "meters-cancel-1");
		await().atMost(Duration.ofSeconds(10)).until(() -> application.getBean(ContextRuntime.class).live().size() == 1);
		assertThat(http.post("/actuator/requestcontexts/meters-cancel-1").status()).isEqualTo(200);
		assertThat(response.get(10, TimeUnit.SECONDS).status()).isEqualTo(503);
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(count("reqctx.requests", "outcome", "CANCELLED", "route", "/m/await-cancel"))
				.isEqualTo(before + 1));
	}

	@Test
	void anUnusableBudgetHeaderIsCountedByReason() {
		double malformed = count("reqctx.budget.invalid", "reason", "malformed");
		double negative = count("reqctx.budget.invalid", "reason", "negative");
		assertThat(http.get("/m/items/1", "Request-Timeout-Ms", "soon").status()).isEqualTo(200);
		assertThat(http.get("/m/items/1", "Request-Timeout-Ms", "-5").status()).isEqualTo(200);
		assertThat(count("reqctx.budget.invalid", "reason", "malformed")).isEqualTo(malformed + 1);
		assertThat(count("reqctx.budget.invalid", "reason", "negative")).isEqualTo(negative + 1);
	}

	@Test
	void tasksLeftBehindAreCountedAsOrphansAndTheQueuedOneAsACancelledTask() throws Exception {
		double orphans = count("reqctx.tasks.orphaned");
		double cancelledTasks = count("reqctx.operations.cancelled", "operation", "task", "cause", "COMPLETED");
		long taskStarts = summaryCount("reqctx.budget.remaining", "operation", "task");
		assertThat(http.get("/m/orphans", "Request-Timeout-Ms", "5000").status()).isEqualTo(200);
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(count("reqctx.operations.cancelled", "operation", "task", "cause",
					"COMPLETED"))
				.isEqualTo(cancelledTasks + 1));
		assertThat(count("reqctx.tasks.orphaned")).isEqualTo(orphans + 2);
		// Only the task that got the thread started; it started with most of the 5 s budget left.
		assertThat(summaryCount("reqctx.budget.remaining", "operation", "task")).isEqualTo(taskStarts + 1);
		DistributionSummary remaining = registry.find("reqctx.budget.remaining").tag("operation", "task").summary();
		assertThat(remaining.max()).isBetween(1.0, 5000.0);
		assertThat(MetersTestApplication.MetersController.queuedTaskRan.getCount()).isEqualTo(1);
	}

	@Test
	void anOutboundCallCutOffAtTheDeadlineIsCountedWithItsCancelLatencyAndStartingBudget() throws Exception {
		double cancelled = count("reqctx.operations.cancelled", "operation", "http", "cause", "DEADLINE_EXCEEDED");
		long calls = summaryCount("reqctx.budget.remaining", "operation", "http");
		long latencies = timerCount("reqctx.cancel.latency", "operation", "http");
		Response response = http.get("/m/call", "Request-Timeout-Ms", "400");
		assertThat(response.status()).as(response.body()).isEqualTo(504);
		backend.awaitClientClose(Duration.ofSeconds(5));
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(
					count("reqctx.operations.cancelled", "operation", "http", "cause", "DEADLINE_EXCEEDED"))
				.isEqualTo(cancelled + 1));
		assertThat(summaryCount("reqctx.budget.remaining", "operation", "http")).isEqualTo(calls + 1);
		DistributionSummary budget = registry.find("reqctx.budget.remaining").tag("operation", "http").summary();
		assertThat(budget.max()).isBetween(1.0, 400.0);
		Timer latency = registry.find("reqctx.cancel.latency").tag("operation", "http").timer();
		assertThat(latency.count()).isEqualTo(latencies + 1);
		// From the deadline to the aborted call returning: milliseconds; bound loosely for a busy CI.
		assertThat(latency.max(TimeUnit.MILLISECONDS)).isGreaterThan(0).isLessThan(2_000);
		ValueAtPercentile[] percentiles = latency.takeSnapshot().percentileValues();
		assertThat(percentiles).extracting(ValueAtPercentile::percentile).containsExactly(0.5, 0.95, 0.99);
	}

	@Test
	void aStatementCancelledOnTheDatabaseAtTheDeadlineIsCountedWithItsCancelLatencyAndStartingBudget() {
		double cancelled = count("reqctx.operations.cancelled", "operation", "jdbc", "cause", "DEADLINE_EXCEEDED");
		long statements = summaryCount("reqctx.budget.remaining", "operation", "jdbc");
		long latencies = timerCount("reqctx.cancel.latency", "operation", "jdbc");
		Response response = http.get("/m/sql", "Request-Timeout-Ms", "600");
		assertThat(response.status()).as(response.body()).isEqualTo(504);
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(
					count("reqctx.operations.cancelled", "operation", "jdbc", "cause", "DEADLINE_EXCEEDED"))
				.isEqualTo(cancelled + 1));
		assertThat(summaryCount("reqctx.budget.remaining", "operation", "jdbc")).isEqualTo(statements + 1);
		DistributionSummary budget = registry.find("reqctx.budget.remaining").tag("operation", "jdbc").summary();
		assertThat(budget.max()).isBetween(1.0, 600.0);
		Timer latency = registry.find("reqctx.cancel.latency").tag("operation", "jdbc").timer();
		assertThat(latency.count()).isEqualTo(latencies + 1);
		assertThat(latency.max(TimeUnit.MILLISECONDS)).isGreaterThan(0).isLessThan(5_000);
	}

	private static double count(String name, String... tags) {
		// reqctx.requests is a function counter, the other counters are counters.
		Counter counter = registry.find(name).tags(tags).counter();
		if (counter != null) {
			return counter.count();
		}
		FunctionCounter functionCounter = registry.find(name).tags(tags).functionCounter();
		return (functionCounter != null) ? functionCounter.count() : 0;
	}

	private static long summaryCount(String name, String... tags) {
		DistributionSummary summary = registry.find(name).tags(tags).summary();
		return (summary != null) ? summary.count() : 0;
	}

	private static long timerCount(String name, String... tags) {
		Timer timer = registry.find(name).tags(tags).timer();
		return (timer != null) ? timer.count() : 0;
	}

	private static double gauge(String name) {
		Gauge gauge = registry.get(name).gauge();
		return gauge.value();
	}

	private static java.util.List<String> routeTags() {
		return registry.find("reqctx.requests").meters().stream().map((Meter meter) -> meter.getId().getTag("route")).toList();
	}

}
