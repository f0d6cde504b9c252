package dev.reqctx.work;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import dev.reqctx.ContextRuntime;
import dev.reqctx.RequestContext;
import dev.reqctx.testsupport.PostgresServer;
import dev.reqctx.testsupport.TestHttp;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.MDC;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.task.AsyncTaskExecutor;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code @Scheduled} jobs as roots, on a real PostgreSQL and over HTTP: each run is a JOB in
 * {@code /actuator/requestcontexts} with its SQL, an overrunning run is cancelled at its
 * timeout (the statement gone from {@code pg_stat_activity}), an operator can cancel a run, and
 * {@code reqctx.work} counts the outcomes by job.
 */
@SpringBootTest(classes = ScheduledJobsIntegrationTests.JobsApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "spring.application.name=scheduled-jobs-tests",
				"management.endpoints.web.exposure.include=requestcontexts",
				"management.endpoint.requestcontexts.access=unrestricted",
				"reqctx.scheduling.timeouts[OverrunningJob.purge]=3s",
				"reqctx.scheduling.timeouts[Overrunning*]=1h",
				"spring.task.scheduling.pool.size=2" })
@ExtendWith(OutputCaptureExtension.class)
class ScheduledJobsIntegrationTests {

	final PostgresServer pg = PostgresServer.get();

	@LocalServerPort
	int port;

	@Autowired
	MeterRegistry meters;

	@Autowired
	ContextRuntime runtime;

	@Autowired
	JobsApplication.StuckJob stuckJob;

	@Autowired
	JobsApplication.OverrunningJob overrunningJob;

	@Autowired
	JobsApplication.ForkingJob forkingJob;

	TestHttp http;

	@DynamicPropertySource
	static void postgres(DynamicPropertyRegistry registry) {
		PostgresServer server = PostgresServer.get();
		registry.add("spring.datasource.url", server::jdbcUrl);
		registry.add("spring.datasource.username", server::username);
		registry.add("spring.datasource.password", server::password);
	}

	@BeforeEach
	void setUp() {
		this.http = new TestHttp(this.port);
	}

	@Test
	void anOverrunningJobIsListedWithItsSqlAndCancelledAtItsTimeout(CapturedOutput output) {
		// The job's next run sleeps 30 s in SQL; its timeout is 3 s.
		this.overrunningJob.arm();
		JsonNode job = awaitJob("OverrunningJob.purge");
		assertThat(job.path("kind").asText()).isEqualTo("JOB");
		assertThat(job.path("remainingMs").asLong()).isBetween(1L, 3000L);
		assertThat(job.path("operations").toString()).contains("jdbc").contains("scheduled-overrun");
		assertThat(this.pg.awaitNoActive("%scheduled-overrun%", Duration.ofSeconds(10)))
			.as("the statement was cancelled on the server at the job's 3 s timeout, not after 30 s").isTrue();
		await("the outcome counted").atMost(Duration.ofSeconds(10))
			.until(() -> count("OverrunningJob.purge", "DEADLINE_EXCEEDED") == 1);
		assertThat(output).contains("Scheduled job OverrunningJob.purge")
			.contains("was cancelled (DEADLINE_EXCEEDED)")
			.contains("its timeout is PT3S");
		assertThat(output).doesNotContain("Unexpected error occurred in scheduled task");
	}

	@Test
	void anOperatorCanCancelARunningJob() {
		this.stuckJob.arm();
		JsonNode job = awaitJob("StuckJob.refresh");
		assertThat(job.path("remainingMs").isNull() || job.path("remainingMs").isMissingNode())
			.as("no timeout configured: no deadline").isTrue();
		assertThat(this.pg.awaitActive("%scheduled-stuck%", 1, Duration.ofSeconds(10))).isTrue();
		TestHttp.Response cancel = this.http.post("/actuator/requestcontexts/" + job.path("id").asText());
		assertThat(cancel.status()).isEqualTo(200);
		assertThat(this.pg.awaitNoActive("%scheduled-stuck%", Duration.ofSeconds(10))).isTrue();
		await("the outcome counted").atMost(Duration.ofSeconds(10))
			.until(() -> count("StuckJob.refresh", "CANCELLED") == 1);
	}

	@Test
	void aJobCalledFromOtherWorkRunsInThatWork() throws Exception {
		try (var work = this.runtime.work("manual-trigger").start()) {
			String id = RequestContext.current().id();
			assertThat(this.stuckJob.contextOf()).isEqualTo(id);
		}
	}

	@Test
	void aTaskThatOutlivesItsJobIsReportedAsAnOrphanOfTheJobAndTheJobsLogsCarryItsId() {
		long before = this.runtime.orphans().count();
		this.forkingJob.arm();
		await("the job ran").atMost(Duration.ofSeconds(10)).until(() -> this.forkingJob.requestId().get() != null);
		assertThat(this.forkingJob.requestId().get()).as("the job's MDC has its id").isNotBlank();
		await("the orphan reported").atMost(Duration.ofSeconds(10))
			.until(() -> this.runtime.orphans().count() > before);
		assertThat(this.runtime.orphans().recent().get(0).request()).isEqualTo("ForkingJob.fork");
	}

	private double count(String job, String outcome) {
		var timer = this.meters.find("reqctx.work").tag("kind", "JOB").tag("name", job).tag("outcome", outcome).timer();
		return (timer != null) ? timer.count() : 0;
	}

	private JsonNode awaitJob(String name) {
		JsonNode[] found = new JsonNode[1];
		await("job " + name + " in the live tree").atMost(Duration.ofSeconds(20))
			.pollInterval(Duration.ofMillis(50))
			.until(() -> {
				for (JsonNode context : this.http.get("/actuator/requestcontexts").json().path("contexts")) {
					if (name.equals(context.path("name").asText()) && context.path("operations").size() > 0) {
						found[0] = context;
						return true;
					}
				}
				return false;
			});
		return found[0];
	}

	@SpringBootApplication
	@EnableScheduling
	static class JobsApplication {

		@Component
		static class OverrunningJob {

			private final JdbcTemplate jdbc;

			OverrunningJob(JdbcTemplate jdbc) {
				this.jdbc = jdbc;
			}

			/** Set by a test: the next run (within 50 ms) does the work. */
			final AtomicBoolean armed = new AtomicBoolean();

			/** Called through the job's proxy: its fields are the target's. */
			public void arm() {
				this.armed.set(true);
			}

			@Scheduled(fixedDelay = 50, timeUnit = TimeUnit.MILLISECONDS)
			void purge() {
				if (!this.armed.getAndSet(false)) {
					return;
				}
				this.jdbc.queryForObject("select pg_sleep(30)::text /* scheduled-overrun */", String.class);
			}

		}

		/** Hands a task to Boot's executor and returns without waiting for it. */
		@Component
		static class ForkingJob {

			private final AsyncTaskExecutor executor;

			final AtomicBoolean armed = new AtomicBoolean();

			final AtomicReference<String> requestId = new AtomicReference<>();

			ForkingJob(AsyncTaskExecutor applicationTaskExecutor) {
				this.executor = applicationTaskExecutor;
			}

			public void arm() {
				this.armed.set(true);
			}

			public AtomicReference<String> requestId() {
				return this.requestId;
			}

			@Scheduled(fixedDelay = 50, timeUnit = TimeUnit.MILLISECONDS)
			void fork() throws InterruptedException {
				if (!this.armed.getAndSet(false)) {
					return;
				}
				CountDownLatch started = new CountDownLatch(1);
				this.executor.submit(() -> {
					started.countDown();
					CountDownLatch cancelled = new CountDownLatch(1);
					RequestContext.current().onCancel(cancelled::countDown);
					cancelled.await(10, TimeUnit.SECONDS);
					return null;
				});
				started.await(10, TimeUnit.SECONDS);
				this.requestId.set(MDC.get("reqctx.requestId"));
			}

		}

		@Component
		static class StuckJob {

			private final JdbcTemplate jdbc;

			final AtomicBoolean armed = new AtomicBoolean();

			StuckJob(JdbcTemplate jdbc) {
				this.jdbc = jdbc;
			}

			public void arm() {
				this.armed.set(true);
			}

			@Scheduled(fixedDelay = 50, timeUnit = TimeUnit.MILLISECONDS)
			void refresh() {
				if (!this.armed.getAndSet(false)) {
					return;
				}
				this.jdbc.queryForObject("select pg_sleep(30)::text /* scheduled-stuck */", String.class);
			}

			@Scheduled(initialDelay = 1, fixedDelay = 1, timeUnit = TimeUnit.HOURS)
			String contextOf() {
				return RequestContext.current().id();
			}

		}

	}

}
