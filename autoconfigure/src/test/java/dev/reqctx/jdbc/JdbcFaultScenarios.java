package dev.reqctx.jdbc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.reqctx.CancellableContext;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.DeadlineExceededException;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.testsupport.FaultProxy;
import dev.reqctx.testsupport.PostgresServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * The deadline under network faults between the application and a real PostgreSQL: a
 * {@link FaultProxy} sits between the pool and the server. Each scenario runs its request on a
 * thread of {@link #threads()}, so that subclasses check platform and virtual threads.
 *
 * <p>Bounds are stated with a margin for two loaded cores. What the tests measured when the
 * README's "Failure modes" table was written is in {@code benchmarks/README.md}: the tests check
 * the bounds, they do not report timings.
 */
@Timeout(60)
@SuppressWarnings("try") // scopes are opened for their effect on the thread
abstract class JdbcFaultScenarios {

	/** Slack on every bound, for scheduling on two loaded cores. */
	static final Duration MARGIN = Duration.ofMillis(1500);

	static final Duration ABORT_AFTER = ContextDataSource.Settings.DEFAULTS.abortAfter();

	private static final AtomicLong MARKERS = new AtomicLong();

	final PostgresServer pg = PostgresServer.get();

	private final List<AutoCloseable> closeables = new ArrayList<>();

	/** The threads requests run on. */
	abstract ThreadFactory threads();

	@AfterEach
	void close() throws Exception {
		for (int i = this.closeables.size() - 1; i >= 0; i--) {
			this.closeables.get(i).close();
		}
	}

	FaultProxy proxy() {
		FaultProxy proxy = FaultProxy.start(port(this.pg.jdbcUrl()));
		this.closeables.add(proxy);
		return proxy;
	}

	/** A pool as Boot's auto-configuration leaves it: HikariCP's defaults plus reqctx's driver defaults. */
	HikariDataSource pool(FaultProxy proxy, int size) {
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl(this.pg.jdbcUrl().replaceFirst(":\\d+/", ":" + proxy.port() + "/"));
		config.setUsername(this.pg.username());
		config.setPassword(this.pg.password());
		config.setMaximumPoolSize(size);
		config.setPoolName("reqctx-fault-" + MARKERS.incrementAndGet());
		assertThat(HikariPostgresDefaults.apply(config)).isTrue();
		HikariDataSource pool = new HikariDataSource(config);
		this.closeables.add(() -> {
			proxy.blackHole(false);
			pool.close();
		});
		return pool;
	}

	static ContextDataSource reqctx(HikariDataSource pool, Duration abortAfter) {
		return new ContextDataSource(pool, new ContextDataSource.Settings(200, Duration.ofMillis(100), abortAfter),
				() -> ContextObserver.NONE);
	}

	static String marker(String name) {
		return "/* reqctx-fault-" + name + "-" + MARKERS.incrementAndGet() + " */";
	}

	/** Runs work on a thread of {@link #threads()}; the future completes when that thread is free again. */
	<T> CompletableFuture<T> onRequestThread(Supplier<T> work) {
		CompletableFuture<T> result = new CompletableFuture<>();
		threads().newThread(() -> {
			try {
				result.complete(work.get());
			}
			catch (Throwable ex) {
				result.completeExceptionally(ex);
			}
		}).start();
		return result;
	}

	@Test
	void blackHoledDatabaseMidQueryAnswersWithinAbortAfterAndFreesThePool() throws Exception {
		FaultProxy proxy = proxy();
		HikariDataSource pool = pool(proxy, 2);
		JdbcTemplate jdbc = new JdbcTemplate(reqctx(pool, ABORT_AFTER));
		String marker = marker("blackhole-query");
		long[] deadline = new long[1];
		CompletableFuture<Throwable> outcome = onRequestThread(() -> {
			try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(1000));
					Scope scope = ctx.attach()) {
				deadline[0] = ctx.deadline().orElseThrow().nanoTime();
				return catchThrowable(() -> jdbc.queryForObject("SELECT 1 FROM pg_sleep(30) " + marker, Integer.class));
			}
		});
		assertThat(this.pg.awaitActive("%" + marker + "%", 1, Duration.ofSeconds(10))).isTrue();
		proxy.blackHole(true);
		Throwable thrown = outcome.get(30, TimeUnit.SECONDS);
		long late = System.nanoTime() - deadline[0];
		assertThat(ContextCancelledException.findIn(thrown)).isInstanceOf(DeadlineExceededException.class);
		assertThat(late).isLessThan(ABORT_AFTER.plus(MARGIN).toNanos());
		awaitNoActiveConnections(pool, "the pool slot is back");
		proxy.blackHole(false);
		assertThat(this.pg.awaitNoActive("%" + marker + "%", Duration.ofSeconds(15)))
			.as("the statement is gone once the network heals").isTrue();
	}

	@Test
	void blackHoledDatabaseDuringBorrowAnswersAtTheDeadline() throws Exception {
		FaultProxy proxy = proxy();
		HikariDataSource pool = pool(proxy, 2);
		JdbcTemplate jdbc = new JdbcTemplate(reqctx(pool, ABORT_AFTER));
		fill(pool, 2);
		// HikariCP validates a connection on the borrowing thread only once it has been idle for
		// 500 ms (its alive-bypass window): age them past it.
		Thread.sleep(700);
		proxy.blackHole(true);
		long[] deadline = new long[1];
		CompletableFuture<Throwable> outcome = onRequestThread(() -> {
			try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(1000));
					Scope scope = ctx.attach()) {
				deadline[0] = ctx.deadline().orElseThrow().nanoTime();
				return catchThrowable(() -> jdbc.queryForObject("SELECT 1", Integer.class));
			}
		});
		Throwable thrown = outcome.get(40, TimeUnit.SECONDS);
		long late = System.nanoTime() - deadline[0];
		assertThat(ContextCancelledException.findIn(thrown)).isInstanceOf(DeadlineExceededException.class);
		assertThat(late).isLessThan(MARGIN.toNanos());
		proxy.blackHole(false);
		awaitNoActiveConnections(pool, "no connection left in use");
		// Once the network heals the pool serves again (on new connections).
		assertThat(jdbc.queryForObject("SELECT 42", Integer.class)).isEqualTo(42);
	}

	@Test
	void lostCancelCostsOneRetryIntervalNotAbortAfter() throws Exception {
		FaultProxy proxy = proxy();
		HikariDataSource pool = pool(proxy, 1);
		// abort-after far beyond the bound asserted: only a retried cancel can meet it.
		JdbcTemplate jdbc = new JdbcTemplate(reqctx(pool, Duration.ofSeconds(20)));
		int pid = jdbc.queryForObject("SELECT pg_backend_pid()", Integer.class);
		String marker = marker("lost-cancel");
		try (CancellableContext ctx = RequestContext.root().withCancel()) {
			CompletableFuture<Throwable> outcome = onRequestThread(() -> catchThrowable(
					() -> ctx.wrap(() -> jdbc.queryForObject("SELECT 1 FROM pg_sleep(30) " + marker, Integer.class))
						.call()));
			assertThat(this.pg.awaitActive("%" + marker + "%", 1, Duration.ofSeconds(10))).isTrue();
			int accepted = proxy.connectionsAccepted();
			proxy.dropNextConnections(1);
			long cancelled = System.nanoTime();
			ctx.cancel();
			Throwable thrown = outcome.get(20, TimeUnit.SECONDS);
			long took = System.nanoTime() - cancelled;
			assertThat(ContextCancelledException.findIn(thrown)).isNotNull();
			assertThat(proxy.connectionsAccepted() - accepted).as("the first cancel request was dropped, then retried")
				.isGreaterThanOrEqualTo(2);
			assertThat(took).isLessThan(Duration.ofMillis(100).plus(MARGIN).toNanos());
			assertThat(this.pg.awaitNoActive("%" + marker + "%", Duration.ofSeconds(2))).isTrue();
		}
		// Stopped by a cancel, not by aborting the connection: the same backend serves on.
		assertThat(jdbc.queryForObject("SELECT pg_backend_pid()", Integer.class)).isEqualTo(pid);
	}

	@Test
	void lostDeadlineCancelIsRetriedToo() throws Exception {
		FaultProxy proxy = proxy();
		HikariDataSource pool = pool(proxy, 1);
		JdbcTemplate jdbc = new JdbcTemplate(reqctx(pool, Duration.ofSeconds(20)));
		jdbc.queryForObject("SELECT 1", Integer.class);
		String marker = marker("lost-deadline-cancel");
		// Every new connection from now on is the deadline's cancel request: drop the first.
		proxy.dropNextConnections(1);
		long[] deadline = new long[1];
		CompletableFuture<Throwable> outcome = onRequestThread(() -> {
			try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(500));
					Scope scope = ctx.attach()) {
				deadline[0] = ctx.deadline().orElseThrow().nanoTime();
				return catchThrowable(() -> jdbc.queryForObject("SELECT 1 FROM pg_sleep(30) " + marker, Integer.class));
			}
		});
		Throwable thrown = outcome.get(30, TimeUnit.SECONDS);
		long late = System.nanoTime() - deadline[0];
		assertThat(ContextCancelledException.findIn(thrown)).isInstanceOf(DeadlineExceededException.class);
		assertThat(late).isLessThan(Duration.ofMillis(100).plus(MARGIN).toNanos());
		assertThat(this.pg.awaitNoActive("%" + marker + "%", Duration.ofSeconds(2))).isTrue();
	}

	private static void fill(HikariDataSource pool, int size) throws Exception {
		List<java.sql.Connection> borrowed = new ArrayList<>();
		for (int i = 0; i < size; i++) {
			borrowed.add(pool.getConnection());
		}
		for (java.sql.Connection connection : borrowed) {
			connection.close();
		}
	}

	static void awaitNoActiveConnections(HikariDataSource pool, String what) {
		await(what).atMost(Duration.ofSeconds(5))
			.pollInterval(Duration.ofMillis(10))
			.until(() -> pool.getHikariPoolMXBean().getActiveConnections() == 0);
	}

	private static int port(String jdbcUrl) {
		java.util.regex.Matcher matcher = java.util.regex.Pattern.compile(":(\\d+)/").matcher(jdbcUrl);
		assertThat(matcher.find()).as("a port in %s", jdbcUrl).isTrue();
		return Integer.parseInt(matcher.group(1));
	}

}
