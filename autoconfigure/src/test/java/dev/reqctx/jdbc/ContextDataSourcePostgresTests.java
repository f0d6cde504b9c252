package dev.reqctx.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.DeadlineExceededException;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.testsupport.PostgresServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.postgresql.jdbc.PgStatement;

import org.springframework.dao.DataAccessException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Tests for {@link ContextDataSource} against a real PostgreSQL server: what matters is that
 * the statement stops running on the server, as {@code pg_stat_activity} shows it.
 */
@SuppressWarnings("try") // scopes are opened for their effect on the thread
class ContextDataSourcePostgresTests {

	private static final AtomicLong MARKERS = new AtomicLong();

	private final PostgresServer pg = PostgresServer.get();

	private final List<AutoCloseable> closeables = new ArrayList<>();

	@AfterEach
	void close() throws Exception {
		for (int i = this.closeables.size() - 1; i >= 0; i--) {
			this.closeables.get(i).close();
		}
	}

	private HikariDataSource pool(int size) {
		HikariDataSource pool = this.pg.newHikariDataSource(size);
		this.closeables.add(pool);
		return pool;
	}

	private HikariDataSource pool(int size, DataSource driver) {
		HikariConfig config = new HikariConfig();
		config.setDataSource(driver);
		config.setMaximumPoolSize(size);
		config.setPoolName("reqctx-lossy-" + MARKERS.incrementAndGet());
		HikariDataSource pool = new HikariDataSource(config);
		this.closeables.add(pool);
		return pool;
	}

	private PGSimpleDataSource driver() {
		PGSimpleDataSource driver = new PGSimpleDataSource();
		driver.setURL(this.pg.jdbcUrl());
		driver.setUser(this.pg.username());
		driver.setPassword(this.pg.password());
		return driver;
	}

	/** A comment that makes a statement's text unique in pg_stat_activity. */
	private static String marker(String name) {
		return "/* reqctx-" + name + "-" + MARKERS.incrementAndGet() + " */";
	}

	@Test
	void deadlineStopsPgSleepOnTheServerBeforeTheCallReturns() throws Exception {
		JdbcTemplate jdbc = new JdbcTemplate(new ContextDataSource(pool(2)));
		String marker = marker("deadline");
		Throwable thrown;
		long deadline;
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(300));
				Scope scope = ctx.attach()) {
			deadline = ctx.deadline().orElseThrow().nanoTime();
			thrown = catchThrowable(() -> jdbc.queryForObject("SELECT 1 FROM pg_sleep(30) " + marker, Integer.class));
		}
		long returned = System.nanoTime();
		assertThat(this.pg.countActive("%" + marker + "%")).as("gone from the server when the call returns").isZero();
		assertThat(thrown).isInstanceOf(QueryTimeoutException.class);
		assertThat(ContextCancelledException.findIn(thrown)).isInstanceOf(DeadlineExceededException.class);
		// A PostgreSQL cancel takes 2-5 ms on a quiet machine and 50-400 ms per attempt on two
		// loaded cores (each is a new connection the postmaster forks for): the margin is for
		// that, and still well short of abort-after (1 s) giving up on the cancel.
		assertThat(Duration.ofNanos(returned - deadline)).as("answered within 700 ms of the deadline")
			.isLessThan(Duration.ofMillis(700));
	}

	@Test
	void cancellingTheContextStopsARunningQueryOnTheServer() throws Exception {
		JdbcTemplate jdbc = new JdbcTemplate(new ContextDataSource(pool(2)));
		String marker = marker("cancel");
		try (CancellableContext ctx = RequestContext.root().withCancel()) {
			CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> catchThrowable(
					() -> ctx.wrap(() -> jdbc.queryForObject("SELECT 1 FROM pg_sleep(30) " + marker, Integer.class))
						.call()));
			assertThat(this.pg.awaitActive("%" + marker + "%", 1, Duration.ofSeconds(10))).isTrue();
			ctx.cancel();
			// 50-400 ms per cancel attempt on two loaded cores, 2-5 ms quiet; the sleep is 30 s.
			assertThat(this.pg.awaitNoActive("%" + marker + "%", Duration.ofSeconds(1)))
				.as("gone from the server within 1 s of the cancel")
				.isTrue();
			Throwable thrown = outcome.get(2, TimeUnit.SECONDS);
			assertThat(ContextCancelledException.findIn(thrown).getCancellationCause())
				.isEqualTo(CancellationCause.CANCELLED);
		}
	}

	@Test
	void deadlinePassingMidTransactionRollsItBack() throws Exception {
		ContextDataSource dataSource = new ContextDataSource(pool(2));
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		String table = "orders_" + MARKERS.incrementAndGet();
		jdbc.execute("CREATE TABLE " + table + " (id int primary key)");
		TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
		Throwable thrown;
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(300));
				Scope scope = ctx.attach()) {
			thrown = catchThrowable(() -> tx.executeWithoutResult((status) -> {
				jdbc.update("INSERT INTO " + table + " VALUES (1)");
				jdbc.update("INSERT INTO " + table + " VALUES (2)");
				jdbc.queryForObject("SELECT 1 FROM pg_sleep(30)", Integer.class);
				jdbc.update("INSERT INTO " + table + " VALUES (3)");
			}));
		}
		assertThat(ContextCancelledException.findIn(thrown)).isInstanceOf(DeadlineExceededException.class);
		assertThat(jdbc.queryForObject("SELECT count(*) FROM " + table, Integer.class)).isZero();
	}

	@Test
	void poolOfFiveSurvivesTwentySlowRequestsWithReqctx() throws Exception {
		long fastQueryMillis = poolStorm(true);
		assertThat(fastQueryMillis).isLessThan(1000);
	}

	@Test
	void poolOfFiveIsExhaustedByTwentySlowRequestsWithoutReqctx() throws Exception {
		assertThat(poolStorm(false)).as("fast query time, -1 if it did not answer within 1 s").isEqualTo(-1);
	}

	/**
	 * Runs 20 requests with 300 ms budgets, each sleeping 30 s in SQL, on a pool of 5, then one
	 * fast query.
	 * @return how long the fast query took, or -1 if it did not answer within a second
	 */
	private long poolStorm(boolean withReqctx) throws Exception {
		HikariDataSource pool = pool(5);
		DataSource dataSource = withReqctx ? new ContextDataSource(pool) : pool;
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		jdbc.queryForObject("SELECT 1", Integer.class); // the pool is warm
		String marker = marker("storm");
		ExecutorService requests = Executors.newFixedThreadPool(21);
		try {
			CountDownLatch started = new CountDownLatch(20);
			for (int i = 0; i < 20; i++) {
				requests.submit(() -> {
					try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(300));
							Scope scope = ctx.attach()) {
						started.countDown();
						return jdbc.queryForObject("SELECT 1 FROM pg_sleep(30) " + marker, Integer.class);
					}
				});
			}
			assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
			if (withReqctx) {
				// The slow requests may be cancelled before all five connections are busy on a
				// loaded machine: wait for that at most briefly, then send the fast one anyway.
				this.pg.awaitActive("%" + marker + "%", 5, Duration.ofMillis(250));
			}
			else {
				assertThat(this.pg.awaitActive("%" + marker + "%", 5, Duration.ofSeconds(10))).isTrue();
			}
			long start = System.nanoTime();
			Future<Integer> fast = requests.submit(() -> jdbc.queryForObject("SELECT 42", Integer.class));
			try {
				assertThat(fast.get(1, TimeUnit.SECONDS)).isEqualTo(42);
				return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
			}
			catch (TimeoutException ex) {
				return -1;
			}
		}
		finally {
			requests.shutdownNow();
			pool.close();
			terminate(marker);
		}
	}

	@Test
	void statementWithNoTimeLeftNeverReachesTheServer() throws Exception {
		HikariDataSource pool = pool(1);
		LossyDataSource counting = LossyDataSource.ignoringCancels(pool, 0);
		ContextDataSource dataSource = new ContextDataSource(counting.dataSource());
		String marker = marker("zero");
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ZERO); Scope scope = ctx.attach()) {
			assertThatExceptionOfType(ContextCancelledSQLException.class).isThrownBy(dataSource::getConnection);
		}
		assertThat(counting.connectionsOpened).hasValue(0);
		assertThat(pool.getHikariPoolMXBean().getActiveConnections()).isZero();
		// A statement on a connection borrowed earlier is refused without a round trip either.
		try (Connection connection = dataSource.getConnection();
				PreparedStatement statement = connection.prepareStatement("SELECT 1 " + marker)) {
			try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofNanos(1));
					Scope scope = ctx.attach()) {
				assertThatExceptionOfType(ContextCancelledSQLException.class).isThrownBy(statement::executeQuery);
			}
		}
		assertThat(queriesSeenByTheServer(marker)).isZero();
	}

	@Test
	void budgetIsNeverHandedToPgJdbcsSharedTimer() throws Exception {
		AtomicReference<PreparedStatement> running = new AtomicReference<>();
		AtomicLong seenMillis = new AtomicLong(-1);
		ContextObserver observer = new ContextObserver() {
			@Override
			public void operationStarted(String operation, long remainingNanos) {
				try {
					seenMillis.set(running.get().unwrap(PgStatement.class).getQueryTimeoutMs());
				}
				catch (SQLException ex) {
					throw new IllegalStateException(ex);
				}
			}
		};
		ContextDataSource dataSource = new ContextDataSource(pool(1), ContextDataSource.Settings.DEFAULTS,
				() -> observer);
		try (Connection connection = dataSource.getConnection();
				PreparedStatement statement = connection.prepareStatement("SELECT 1")) {
			running.set(statement);
			try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(250));
					Scope scope = ctx.attach()) {
				statement.executeQuery().close();
			}
			statement.executeQuery().close();
			assertThat(statement.unwrap(PgStatement.class).getQueryTimeoutMs()).isZero();
		}
		// PgJDBC's timeout runs on one timer thread for the whole JVM whose cancel holds the
		// connection lock; reqctx's deadline cancels instead (see the deadline test above).
		assertThat(seenMillis.get()).isZero();
	}

	@Test
	void connectionServesTheNextBorrowerAfterACancel() throws Exception {
		HikariDataSource pool = pool(1);
		JdbcTemplate jdbc = new JdbcTemplate(new ContextDataSource(pool));
		int pid = jdbc.queryForObject("SELECT pg_backend_pid()", Integer.class);
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(100));
				Scope scope = ctx.attach()) {
			catchThrowable(() -> jdbc.queryForObject("SELECT 1 FROM pg_sleep(30)", Integer.class));
		}
		assertThat(jdbc.queryForObject("SELECT pg_backend_pid()", Integer.class)).isEqualTo(pid);
		assertThat(jdbc.queryForObject("SELECT 42", Integer.class)).isEqualTo(42);
	}

	@Test
	void lostCancelIsRepeatedUntilTheQueryStops() throws Exception {
		LossyDataSource lossy = LossyDataSource.ignoringCancels(driver(), 1);
		JdbcTemplate jdbc = new JdbcTemplate(new ContextDataSource(pool(1, lossy.dataSource())));
		String marker = marker("lost-once");
		try (CancellableContext ctx = RequestContext.root().withCancel()) {
			CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> catchThrowable(
					() -> ctx.wrap(() -> jdbc.queryForObject("SELECT 1 FROM pg_sleep(30) " + marker, Integer.class))
						.call()));
			assertThat(this.pg.awaitActive("%" + marker + "%", 1, Duration.ofSeconds(10))).isTrue();
			ctx.cancel();
			assertThat(this.pg.awaitNoActive("%" + marker + "%", Duration.ofSeconds(1))).isTrue();
			assertThat(ContextCancelledException.findIn(outcome.get(2, TimeUnit.SECONDS))).isNotNull();
		}
		assertThat(lossy.cancelCalls).hasValue(2);
		assertThat(lossy.abortCalls).hasValue(0);
		assertThat(jdbc.queryForObject("SELECT 42", Integer.class)).isEqualTo(42);
	}

	@Test
	void statementThatIgnoresEveryCancelLosesItsConnectionNotItsPoolSlot() throws Exception {
		LossyDataSource lossy = LossyDataSource.ignoringCancels(driver(), Integer.MAX_VALUE);
		HikariDataSource pool = pool(1, lossy.dataSource());
		JdbcTemplate jdbc = new JdbcTemplate(new ContextDataSource(pool,
				new ContextDataSource.Settings(200, Duration.ofMillis(50), Duration.ofMillis(300)), () -> ContextObserver.NONE));
		int pid = jdbc.queryForObject("SELECT pg_backend_pid()", Integer.class);
		String marker = marker("lost-always");
		try (CancellableContext ctx = RequestContext.root().withCancel()) {
			CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> catchThrowable(
					() -> ctx.wrap(() -> jdbc.queryForObject("SELECT 1 FROM pg_sleep(30) " + marker, Integer.class))
						.call()));
			assertThat(this.pg.awaitActive("%" + marker + "%", 1, Duration.ofSeconds(10))).isTrue();
			ctx.cancel();
			Throwable thrown = outcome.get(3, TimeUnit.SECONDS);
			assertThat(ContextCancelledException.findIn(thrown)).isNotNull();
			assertThat(lossy.abortCalls).hasValue(1);
		}
		// The pool's only slot serves the next borrower, on a new connection.
		assertThat(jdbc.queryForObject("SELECT pg_backend_pid()", Integer.class)).isNotEqualTo(pid);
		terminate(marker);
	}

	@Test
	void databaseGoingAwayMidRequestFailsTheRequestWithoutWaitingForTcp() throws Exception {
		HikariDataSource pool = pool(2);
		JdbcTemplate jdbc = new JdbcTemplate(new ContextDataSource(pool));
		String marker = marker("restart");
		Throwable thrown;
		long start = System.nanoTime();
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(3));
				Scope scope = ctx.attach()) {
			CompletableFuture<Void> restart = CompletableFuture.runAsync(() -> {
				this.pg.awaitActive("%" + marker + "%", 1, Duration.ofSeconds(10));
				this.pg.restart();
			});
			thrown = catchThrowable(() -> jdbc.queryForObject("SELECT 1 FROM pg_sleep(30) " + marker, Integer.class));
			restart.get(30, TimeUnit.SECONDS);
		}
		assertThat(thrown).isNotNull();
		assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(10));
		// The pool recovers. The other pooled connection was idle when the server restarted and
		// Hikari only finds out when it is used, so one attempt may fail with an I/O error (as it
		// would without reqctx); the pool must serve the query within a few attempts.
		Integer answer = null;
		for (int attempt = 0; attempt < 3 && answer == null; attempt++) {
			try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(10));
					Scope scope = ctx.attach()) {
				answer = jdbc.queryForObject("SELECT 42", Integer.class);
			}
			catch (DataAccessException ex) {
				assertThat(attempt).as("only a stale connection may fail: %s", ex).isLessThan(2);
			}
		}
		assertThat(answer).isEqualTo(42);
		assertThat(pool.getHikariPoolMXBean().getActiveConnections()).as("no connection left borrowed").isZero();
	}

	private int queriesSeenByTheServer(String marker) throws SQLException {
		try (Connection connection = this.pg.connect();
				PreparedStatement statement = connection
					.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE query LIKE ? AND pid <> pg_backend_pid()")) {
			statement.setString(1, "%" + marker + "%");
			try (ResultSet rs = statement.executeQuery()) {
				rs.next();
				return rs.getInt(1);
			}
		}
	}

	/** Ends the server sessions left running by a test that shows what happens without reqctx. */
	private void terminate(String marker) throws SQLException {
		try (Connection connection = this.pg.connect();
				PreparedStatement statement = connection.prepareStatement(
						"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
								+ "WHERE state = 'active' AND query LIKE ? AND pid <> pg_backend_pid()")) {
			statement.setString(1, "%" + marker + "%");
			statement.executeQuery().close();
		}
	}

}
