package dev.reqctx.task;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
import dev.reqctx.jdbc.ContextDataSource;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.RequestInfo;
import dev.reqctx.testsupport.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cancelling a request stops the SQL of the tasks it forked, on a real PostgreSQL: through a
 * wrapped {@code ExecutorService} and through {@code ContextFutures}.
 */
class TaskCancellationPostgresTests {

	private static final String SLEEP = "%pg_sleep(30)%";

	private static HikariDataSource pool;

	private static JdbcTemplate jdbc;

	private final PostgresServer postgres = PostgresServer.get();

	@BeforeAll
	static void startPool() {
		pool = PostgresServer.get().newHikariDataSource(8);
		jdbc = new JdbcTemplate(new ContextDataSource(pool));
	}

	@AfterAll
	static void stopPool() {
		pool.close();
	}

	@BeforeEach
	void noSleepLeftFromBefore() {
		assertThat(this.postgres.awaitNoActive(SLEEP, Duration.ofSeconds(10))).isTrue();
	}

	@Test
	void cancellingTheRequestStopsTheSqlOfTasksOnAWrappedExecutorService() throws Exception {
		ExecutorService executor = ContextExecutors.wrap(Executors.newFixedThreadPool(3));
		try {
			CancellableContext request = newRequest();
			List<Future<Integer>> sleeps = new ArrayList<>();
			try (Scope scope = request.attach()) {
				for (int i = 0; i < 3; i++) {
					sleeps.add(executor.submit(() -> jdbc.queryForObject("select 1 from pg_sleep(30)", Integer.class)));
				}
			}
			assertThat(this.postgres.awaitActive(SLEEP, 3, Duration.ofSeconds(10))).isTrue();
			request.cancel(CancellationCause.CANCELLED);
			assertThat(this.postgres.awaitNoActive(SLEEP, Duration.ofSeconds(1))).isTrue();
			for (Future<Integer> sleep : sleeps) {
				try {
					sleep.get(5, TimeUnit.SECONDS);
					throw new AssertionError("the statement should have been cancelled");
				}
				catch (ExecutionException ex) {
					assertThat(ContextCancelledException.findIn(ex)).isNotNull()
						.satisfies((c) -> assertThat(c.getCancellationCause()).isEqualTo(CancellationCause.CANCELLED));
				}
			}
			request.close();
		}
		finally {
			executor.shutdownNow();
		}
	}

	@Test
	void theDeadlineStopsTheSqlOfACompletableFutureChain() {
		ExecutorService plain = Executors.newFixedThreadPool(2);
		try {
			CancellableContext request = Contexts.newChild(RequestContext.root(), ContextKind.REQUEST, new RequestInfo("GET", "/cf"), Deadline.after(Duration.ofMillis(400)));
			CompletableFuture<Integer> both;
			try (Scope scope = request.attach()) {
				CompletableFuture<Integer> a = ContextFutures
					.supplyAsync(() -> jdbc.queryForObject("select 1 from pg_sleep(30)", Integer.class), plain);
				CompletableFuture<Integer> b = ContextFutures
					.supplyAsync(() -> jdbc.queryForObject("select 2 from pg_sleep(30)", Integer.class), plain);
				both = a.thenCombine(b, Integer::sum);
			}
			assertThat(both).failsWithin(Duration.ofSeconds(5))
				.withThrowableThat()
				.satisfies((ex) -> assertThat(ContextCancelledException.findIn(ex)).isNotNull()
					.satisfies((c) -> assertThat(c.getCancellationCause()).isEqualTo(CancellationCause.DEADLINE_EXCEEDED)));
			// The same margin as for the executor above: 50-400 ms per PostgreSQL cancel attempt
			// on two loaded cores, retried every 100 ms.
			assertThat(this.postgres.awaitNoActive(SLEEP, Duration.ofSeconds(1)))
				.as("both statements gone within 1 s of the chain failing")
				.isTrue();
			request.close();
		}
		finally {
			plain.shutdownNow();
		}
	}

	private static CancellableContext newRequest() {
		return Contexts.newChild(RequestContext.root(), ContextKind.REQUEST, new RequestInfo("GET", "/tasks"), Deadline.after(Duration.ofMinutes(1)));
	}

}
