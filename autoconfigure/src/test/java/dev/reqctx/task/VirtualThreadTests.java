package dev.reqctx.task;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;
import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.ContextKind;
import dev.reqctx.Deadline;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.StandardKeys;
import dev.reqctx.jdbc.ContextDataSource;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.RequestInfo;
import dev.reqctx.testsupport.PostgresServer;
import dev.reqctx.testsupport.TestHttp;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Virtual threads (JDK 21+): Spring Boot's virtual-thread executor and a wrapped
 * virtual-thread-per-task executor propagate the context like platform pools do. The build
 * compiles for Java 17, so JDK 21 API is reached through reflection; these tests run in their
 * own Surefire execution on the Temurin 25 JDK (tag {@code jdk21}).
 */
@Tag("jdk21")
@SpringBootTest(classes = AsyncTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = "spring.threads.virtual.enabled=true")
class VirtualThreadTests {

	@LocalServerPort
	int port;

	@Test
	void asyncMethodsOnVirtualThreadsSeeTheirRequestsContext() {
		JsonNode body = new TestHttp(this.port)
			.get("/async/view", "X-Tenant", "acme", "X-Request-Id", "vt-1", "Request-Timeout-Ms", "2000")
			.json();
		JsonNode task = body.get("task");
		assertThat(task.get("tenant").asString()).isEqualTo("acme");
		assertThat(task.get("requestId").asString()).isEqualTo("vt-1");
		assertThat(task.get("remainingMs").asLong()).isBetween(1L, 2_000L);
		assertThat(task.get("inTask").asBoolean()).isTrue();
	}

	@Test
	void cancellingTheRequestStopsTheSqlOfVirtualThreadTasksOnPostgres() throws Exception {
		PostgresServer postgres = PostgresServer.get();
		ExecutorService virtual = ContextExecutors
			.wrap((ExecutorService) Class.forName("java.util.concurrent.Executors")
				.getMethod("newVirtualThreadPerTaskExecutor")
				.invoke(null));
		try (HikariDataSource pool = postgres.newHikariDataSource(4)) {
			JdbcTemplate jdbc = new JdbcTemplate(new ContextDataSource(pool));
			CancellableContext request = Contexts.newChild(RequestContext.root(), ContextKind.REQUEST, new RequestInfo("GET", "/vt-sql"), Deadline.after(1, TimeUnit.MINUTES));
			List<Future<Integer>> sleeps = new ArrayList<>();
			try (Scope scope = request.attach()) {
				for (int i = 0; i < 3; i++) {
					sleeps.add(virtual.submit(() -> jdbc.queryForObject("select 1 from pg_sleep(31)", Integer.class)));
				}
			}
			assertThat(postgres.awaitActive("%pg_sleep(31)%", 3, Duration.ofSeconds(10))).isTrue();
			request.cancel(CancellationCause.CANCELLED);
			assertThat(postgres.awaitNoActive("%pg_sleep(31)%", Duration.ofSeconds(1))).isTrue();
			for (Future<Integer> sleep : sleeps) {
				assertThatExceptionOfType(java.util.concurrent.ExecutionException.class)
					.isThrownBy(() -> sleep.get(5, TimeUnit.SECONDS))
					.satisfies((ex) -> assertThat(ContextCancelledException.findIn(ex)).isNotNull());
			}
			request.close();
		}
		finally {
			virtual.shutdownNow();
		}
	}

	@Test
	void aWrappedVirtualThreadExecutorRunsTasksInChildContexts() throws Exception {
		ExecutorService virtual = ContextExecutors
			.wrap((ExecutorService) Class.forName("java.util.concurrent.Executors")
				.getMethod("newVirtualThreadPerTaskExecutor")
				.invoke(null));
		Method isVirtual = Thread.class.getMethod("isVirtual");
		CancellableContext request = Contexts.newChild(RequestContext.root().withValue(StandardKeys.REQUEST_ID, "vt-2"), ContextKind.REQUEST, new RequestInfo("GET", "/vt"), Deadline.after(5, TimeUnit.SECONDS));
		try {
			Future<String> seen;
			try (Scope scope = request.attach()) {
				seen = virtual.submit(() -> StandardKeys.REQUEST_ID.get() + "|" + isVirtual.invoke(Thread.currentThread())
						+ "|" + (Contexts.nearest(RequestContext.current(), ContextKind.TASK) != null));
			}
			assertThat(seen.get(5, TimeUnit.SECONDS)).isEqualTo("vt-2|true|true");
			request.cancel(CancellationCause.CANCELLED);
			Future<String> never;
			try (Scope scope = request.attach()) {
				never = virtual.submit(() -> "ran");
			}
			assertThatExceptionOfType(java.util.concurrent.ExecutionException.class)
				.isThrownBy(() -> never.get(5, TimeUnit.SECONDS))
				.withCauseInstanceOf(ContextCancelledException.class);
		}
		finally {
			request.close();
			virtual.shutdownNow();
		}
	}

}
