package dev.reqctx.task;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.reqctx.ContextDiagnostics;
import dev.reqctx.ContextRuntime;
import dev.reqctx.LiveContexts;
import dev.reqctx.Scope;
import dev.reqctx.testsupport.TestHttp.Response;
import dev.reqctx.testsupport.TestHttp;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests of {@code @Async} work through Spring Boot's auto-configured executor, over real HTTP:
 * the task sees its request's context, orphans are reported in actuator, and under load no
 * request ever sees another's values.
 */
@ExtendWith(OutputCaptureExtension.class)
@SpringBootTest(classes = AsyncTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "server.tomcat.threads.max=8", "spring.task.execution.pool.core-size=4",
				"spring.task.execution.pool.max-size=4", "reqctx.task.capture-stacks=true",
				"management.endpoints.web.exposure.include=requestcontexts" })
class AsyncIntegrationTests {

	@LocalServerPort
	int port;

	@Autowired
	ContextRuntime runtime;

	@Autowired
	ThreadPoolTaskExecutor applicationTaskExecutor;

	TestHttp http;

	long orphansBefore;

	@BeforeEach
	void setUp() {
		this.http = new TestHttp(this.port);
		// The application is shared by the tests of this class: count only this test's orphans.
		this.orphansBefore = this.runtime.orphans().count();
	}

	@Test
	void anAsyncMethodSeesItsRequestsDeadlineAndValuesInAChildContext() {
		JsonNode body = this.http.get("/async/view", "X-Tenant", "acme", "X-Request-Id", "async-1",
				"Request-Timeout-Ms", "2000").json();
		JsonNode task = body.get("task");
		assertThat(task.get("tenant").asString()).isEqualTo("acme");
		assertThat(task.get("requestId").asString()).isEqualTo("async-1");
		assertThat(task.get("remainingMs").asLong()).isBetween(1L, 2_000L);
		assertThat(task.get("inTask").asBoolean()).isTrue();
		assertThat(task.get("thread").asString()).startsWith("task-");
	}

	@Test
	void anOrphanedAsyncTaskIsCancelledAndListedOnceWithItsSubmittingStack() throws Exception {
		AsyncTestApplication.AsyncController.orphanStarted = new CountDownLatch(1);
		AsyncTestApplication.AsyncController.orphanStopped = new CountDownLatch(1);
		AsyncTestApplication.AsyncController.orphanRelease = new CountDownLatch(1);
		assertThat(this.http.get("/async/orphan", "X-Request-Id", "orphan-1").status()).isEqualTo(200);
		assertThat(AsyncTestApplication.AsyncController.orphanStopped.await(10, TimeUnit.SECONDS))
			.as("the orphan was cancelled when its request ended")
			.isTrue();
		JsonNode leaks = this.http.get("/actuator/requestcontexts").json().get("leaks");
		assertThat(leaks).hasSize(1);
		JsonNode leak = leaks.get(0);
		assertThat(leak.get("requestId").asString()).isEqualTo("orphan-1");
		assertThat(leak.get("request").asString()).isEqualTo("GET /async/orphan");
		assertThat(leak.get("action").asString()).isEqualTo("CANCELLED");
		assertThat(leak.get("submittedAt").toString()).contains("AsyncController.orphan");
	}

	@Test
	void aDetachedAsyncTaskIsNotAnOrphan() throws Exception {
		AsyncTestApplication.AsyncController.orphanStarted = new CountDownLatch(1);
		AsyncTestApplication.AsyncController.orphanStopped = new CountDownLatch(1);
		AsyncTestApplication.AsyncController.orphanRelease = new CountDownLatch(1);
		assertThat(this.http.get("/async/detached-orphan", "X-Request-Id", "detached-1").status()).isEqualTo(200);
		assertThat(AsyncTestApplication.AsyncController.orphanStopped.await(300, TimeUnit.MILLISECONDS))
			.as("a detached task is not cancelled with its request")
			.isFalse();
		// The application is shared with the other tests of this class, whose orphans are listed.
		assertThat(this.http.get("/actuator/requestcontexts").json().get("leaks"))
			.noneSatisfy((leak) -> assertThat(leak.toString()).contains("detached-1"));
		assertThat(this.runtime.orphans().count()).isEqualTo(this.orphansBefore);
		AsyncTestApplication.AsyncController.orphanRelease.countDown();
		assertThat(AsyncTestApplication.AsyncController.orphanStopped.await(10, TimeUnit.SECONDS)).isTrue();
	}

	@Test
	void underLoadNoResponseCarriesAnotherRequestsValues() throws Exception {
		int clients = 200;
		int perClient = 100;
		long misusesBefore = this.runtime.diagnostics().misuseCount();
		ExecutorService load = Executors.newFixedThreadPool(clients);
		AtomicInteger mismatches = new AtomicInteger();
		AtomicInteger failures = new AtomicInteger();
		List<Future<?>> done = new ArrayList<>();
		try {
			for (int c = 0; c < clients; c++) {
				int client = c;
				done.add(load.submit(() -> {
					for (int i = 0; i < perClient; i++) {
						String tenant = "t-" + client + "-" + i;
						String requestId = "r-" + client + "-" + i;
						Response response = this.http.get("/async/view", "X-Tenant", tenant, "X-Request-Id", requestId);
						if (response.status() != 200) {
							failures.incrementAndGet();
							continue;
						}
						JsonNode body = response.json();
						JsonNode task = body.get("task");
						if (!tenant.equals(body.get("handlerTenant").asString())
								|| !tenant.equals(task.get("tenant").asString())
								|| !requestId.equals(body.get("handlerRequestId").asString())
								|| !requestId.equals(task.get("requestId").asString())) {
							mismatches.incrementAndGet();
						}
					}
				}));
			}
			for (Future<?> future : done) {
				future.get(5, TimeUnit.MINUTES);
			}
		}
		finally {
			load.shutdownNow();
		}
		assertThat(failures).hasValue(0);
		assertThat(mismatches).hasValue(0);
		// Each request leaves the registry right after its response is written.
		await("every request left the registry").atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(5))
			.until(() -> this.runtime.live().size() == 0);
		assertThat(this.runtime.diagnostics().misuseCount()).as("no scope misuse on any thread").isEqualTo(misusesBefore);
		assertEveryPoolThreadIsClean();
	}

	@Test
	void anOrphanThatFailsBecauseItWasCancelledLogsOneWarningAndNoStack(CapturedOutput output) throws Exception {
		AsyncTestApplication.AsyncController.orphanStarted = new CountDownLatch(1);
		AsyncTestApplication.AsyncController.orphanStopped = new CountDownLatch(1);
		assertThat(this.http.get("/async/orphan-that-fails", "X-Request-Id", "orphan-fails-1").status())
			.isEqualTo(200);
		assertThat(AsyncTestApplication.AsyncController.orphanStopped.await(10, TimeUnit.SECONDS)).isTrue();
		// The failure is handled on the pool thread, inside the task: wait until no task runs.
		await().atMost(Duration.ofSeconds(5)).until(() -> this.applicationTaskExecutor.getActiveCount() == 0);
		assertThat(this.runtime.orphans().count()).isEqualTo(this.orphansBefore + 1);
		String log = output.getAll();
		assertThat(log.lines().filter((line) -> line.contains("outlived its request") && line.contains("orphan-fails-1")))
			.as("one WARN for the orphan")
			.hasSize(1);
		assertThat(log).doesNotContain("Unexpected exception occurred invoking async method")
			.doesNotContain("at dev.reqctx.task.AsyncTestApplication$Worker.outliveAndFail");
	}

	private void assertEveryPoolThreadIsClean() throws Exception {
		ThreadPoolExecutor pool = this.applicationTaskExecutor.getThreadPoolExecutor();
		int threads = pool.getCorePoolSize();
		CyclicBarrier together = new CyclicBarrier(threads);
		List<Future<Boolean>> bound = new ArrayList<>();
		for (int i = 0; i < threads; i++) {
			// Straight to the pool, not through the decorator: what is left on the threads?
			bound.add(pool.submit(() -> {
				together.await(10, TimeUnit.SECONDS);
				return Scope.isAnyBound();
			}));
		}
		for (Future<Boolean> result : bound) {
			assertThat(result.get(10, TimeUnit.SECONDS)).isFalse();
		}
	}

}
