package dev.reqctx.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
import dev.reqctx.spi.ContextTree;
import dev.reqctx.spi.Contexts;
import dev.reqctx.testsupport.H2Sleep;
import org.h2.jdbc.JdbcConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.dao.DataAccessException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link ContextDataSource} on an embedded H2 database behind HikariCP.
 */
@SuppressWarnings("try") // scopes are opened for their effect on the thread
class ContextDataSourceH2Tests {

	private static final AtomicInteger DATABASES = new AtomicInteger();

	private static final Duration WAIT = Duration.ofSeconds(10);

	/** Often enough to see a statement that runs for a few hundred milliseconds. */
	private static final Duration POLL = Duration.ofMillis(5);

	private HikariDataSource pool;

	@AfterEach
	void closePool() {
		if (this.pool != null) {
			this.pool.close();
		}
	}

	private HikariDataSource pool(int size, DataSource driver) throws SQLException {
		HikariConfig config = new HikariConfig();
		config.setMaximumPoolSize(size);
		config.setMinimumIdle(size);
		config.setConnectionTimeout(30_000);
		config.setPoolName("h2-test");
		if (driver != null) {
			config.setDataSource(driver);
		}
		else {
			config.setJdbcUrl(newDatabaseUrl());
		}
		this.pool = new HikariDataSource(config);
		try (Connection connection = this.pool.getConnection()) {
			H2Sleep.install(connection);
		}
		return this.pool;
	}

	private static String newDatabaseUrl() {
		return "jdbc:h2:mem:reqctx" + DATABASES.incrementAndGet() + ";DB_CLOSE_DELAY=-1";
	}

	private static DataSource h2() {
		org.h2.jdbcx.JdbcDataSource h2 = new org.h2.jdbcx.JdbcDataSource();
		h2.setURL(newDatabaseUrl());
		return h2;
	}

	private ContextDataSource wrap(DataSource target) {
		return new ContextDataSource(target);
	}

	@Test
	void deadlineStopsARunningStatementAndSpringKeepsTheCause() throws Exception {
		JdbcTemplate jdbc = new JdbcTemplate(wrap(pool(2, null)));
		long start = System.nanoTime();
		Throwable thrown;
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(300));
				Scope scope = ctx.attach()) {
			thrown = catchThrowable(() -> jdbc.queryForObject("SELECT SLEEP_MS(30000)", Integer.class));
		}
		long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
		assertThat(thrown).isInstanceOf(QueryTimeoutException.class);
		assertThat(ContextCancelledException.findIn(thrown)).isInstanceOf(DeadlineExceededException.class);
		assertThat(thrown).hasRootCauseInstanceOf(SQLException.class);
		assertThat(elapsedMs).isLessThan(1000);
	}

	@Test
	void aBudgetLoweredTimeoutDoesNotStayOnThePooledConnection() throws Exception {
		// H2 keeps the query timeout on the session: one pooled connection carries it over.
		JdbcTemplate jdbc = new JdbcTemplate(wrap(pool(1, null)));
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(500));
				Scope scope = ctx.attach()) {
			assertThat(catchThrowable(() -> jdbc.queryForObject("SELECT SLEEP_MS(2000)", Integer.class)))
				.isInstanceOf(QueryTimeoutException.class);
		}
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(10));
				Scope scope = ctx.attach()) {
			assertThat(jdbc.queryForObject("SELECT SLEEP_MS(1500)", Integer.class))
				.as("the next request's budget, not the last one's, bounds the statement")
				.isNotNull();
		}
		assertThat(jdbc.queryForObject("SELECT SLEEP_MS(1500)", Integer.class)).as("and outside any request")
			.isNotNull();
	}

	@Test
	void cancellingTheContextStopsARunningStatement() throws Exception {
		JdbcTemplate jdbc = new JdbcTemplate(wrap(pool(2, null)));
		try (CancellableContext ctx = RequestContext.root().withCancel()) {
			CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(
					() -> catchThrowable(() -> ctx.wrap(() -> jdbc.queryForObject("SELECT SLEEP_MS(30000)", Integer.class)).call()));
			await().atMost(WAIT).pollInterval(POLL).until(() -> runningSql(ctx).contains("SELECT SLEEP_MS(30000)"));
			ctx.cancel();
			Throwable thrown = outcome.get(2, TimeUnit.SECONDS);
			ContextCancelledException cancelled = ContextCancelledException.findIn(thrown);
			assertThat(cancelled).isNotNull();
			assertThat(cancelled.getCancellationCause()).isEqualTo(CancellationCause.CANCELLED);
			assertThat(cancelled).isNotInstanceOf(DeadlineExceededException.class);
		}
	}

	@Test
	void connectionServesTheNextBorrowerAfterACancel() throws Exception {
		JdbcTemplate jdbc = new JdbcTemplate(wrap(pool(1, null)));
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(100));
				Scope scope = ctx.attach()) {
			assertThatExceptionOfType(DataAccessException.class)
				.isThrownBy(() -> jdbc.queryForObject("SELECT SLEEP_MS(30000)", Integer.class));
		}
		assertThat(jdbc.queryForObject("SELECT 42", Integer.class)).isEqualTo(42);
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(5));
				Scope scope = ctx.attach()) {
			assertThat(jdbc.queryForObject("SELECT SLEEP_MS(10)", Integer.class)).isEqualTo(10);
		}
		assertThat(this.pool.getHikariPoolMXBean().getTotalConnections()).isEqualTo(1);
	}

	@Test
	void cancelledContextFailsFastWithoutBorrowingAConnection() throws Exception {
		LossyDataSource counting = LossyDataSource.ignoringCancels(h2(), 0);
		DataSource target = counting.dataSource();
		JdbcTemplate jdbc = new JdbcTemplate(wrap(target));
		try (CancellableContext ctx = RequestContext.root().withCancel(); Scope scope = ctx.attach()) {
			ctx.cancel();
			Throwable thrown = catchThrowable(() -> jdbc.queryForObject("SELECT 1", Integer.class));
			assertThat(ContextCancelledException.findIn(thrown)).isNotNull();
		}
		assertThat(counting.connectionsOpened).hasValue(0);
	}

	@Test
	void deadlinePassedBeforeTheTimerFiredStillNeverBorrows() throws Exception {
		LossyDataSource counting = LossyDataSource.ignoringCancels(h2(), 0);
		ContextDataSource dataSource = wrap(counting.dataSource());
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(1));
				Scope scope = ctx.attach()) {
			// Whether or not the timer got there first, the outcome is the same.
			await().atMost(WAIT).pollInterval(POLL).until(() -> ctx.remainingNanos() <= 0);
			Throwable thrown = catchThrowable(dataSource::getConnection);
			assertThat(thrown).isInstanceOf(ContextCancelledSQLException.class);
			assertThat(ContextCancelledException.findIn(thrown)).isInstanceOf(DeadlineExceededException.class);
		}
		assertThat(counting.connectionsOpened).hasValue(0);
	}

	@Test
	void statementFailsFastOnAConnectionBorrowedBeforeTheCancel() throws Exception {
		ContextDataSource dataSource = wrap(pool(1, null));
		try (CancellableContext ctx = RequestContext.root().withCancel(); Scope scope = ctx.attach();
				Connection connection = dataSource.getConnection();
				PreparedStatement statement = connection.prepareStatement("SELECT SLEEP_MS(5000)")) {
			ctx.cancel();
			long start = System.nanoTime();
			assertThatExceptionOfType(ContextCancelledSQLException.class).isThrownBy(statement::executeQuery)
				.satisfies((ex) -> assertThat(ex.getSQLState()).isEqualTo("57014"));
			assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(1));
			statement.addBatch();
			assertThatExceptionOfType(ContextCancelledSQLException.class).isThrownBy(statement::executeBatch);
		}
	}

	@Test
	void waitForAPooledConnectionEndsWithTheBudget() throws Exception {
		HikariDataSource pool = pool(1, null);
		JdbcTemplate jdbc = new JdbcTemplate(wrap(pool));
		try (Connection held = pool.getConnection()) {
			long start = System.nanoTime();
			Throwable thrown;
			try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(200));
					Scope scope = ctx.attach()) {
				thrown = catchThrowable(() -> jdbc.queryForObject("SELECT 1", Integer.class));
			}
			long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
			assertThat(ContextCancelledException.findIn(thrown)).isInstanceOf(DeadlineExceededException.class);
			assertThat(elapsedMs).isBetween(150L, 1000L);
			assertThat(Thread.currentThread().isInterrupted()).isFalse();
		}
		assertThat(jdbc.queryForObject("SELECT 1", Integer.class)).isEqualTo(1);
	}

	@Test
	void runningStatementShowsInTheTreeWithItsSqlTruncated() throws Exception {
		ContextDataSource dataSource = new ContextDataSource(pool(1, null),
				new ContextDataSource.Settings(20, Duration.ofMillis(100), Duration.ofSeconds(5)), RecordingObserver::new);
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(10))) {
			CompletableFuture<Integer> outcome = CompletableFuture.supplyAsync(() -> {
				try (Scope scope = ctx.attach()) {
					return jdbc.queryForObject("SELECT SLEEP_MS(?) AS SLEPT_FOR_A_WHILE", Integer.class, 400);
				}
			});
			await().atMost(WAIT).pollInterval(POLL).until(() -> !runningSql(ctx).isEmpty());
			ContextTree.OperationView op = Contexts.tree(ctx).operations().get(0);
			assertThat(op.kind()).isEqualTo("jdbc");
			assertThat(op.description()).isEqualTo("SELECT SLEEP_MS(?) A...");
			assertThat(outcome.get(5, TimeUnit.SECONDS)).isEqualTo(400);
			assertThat(Contexts.tree(ctx).operations()).isEmpty();
		}
	}

	@Test
	void manyStatementsInOneContextLeaveNothingBehind() throws Exception {
		RecordingObserver observer = new RecordingObserver();
		JdbcTemplate jdbc = new JdbcTemplate(
				new ContextDataSource(pool(1, null), ContextDataSource.Settings.DEFAULTS, () -> observer));
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(30));
				Scope scope = ctx.attach()) {
			for (int i = 0; i < 2000; i++) {
				jdbc.queryForObject("SELECT ?", Integer.class, i);
			}
			assertThat(Contexts.tree(ctx).operations()).isEmpty();
			assertThat(observer.started).hasSize(2000);
			assertThat(observer.cancelled).isEmpty();
		}
	}

	@Test
	void observerHearsOfTheBudgetAndTheCancelLatency() throws Exception {
		RecordingObserver observer = new RecordingObserver();
		JdbcTemplate jdbc = new JdbcTemplate(
				new ContextDataSource(pool(1, null), ContextDataSource.Settings.DEFAULTS, () -> observer));
		long remainingBefore;
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(300));
				Scope scope = ctx.attach()) {
			remainingBefore = ctx.remainingNanos();
			catchThrowable(() -> jdbc.queryForObject("SELECT SLEEP_MS(30000)", Integer.class));
		}
		// What was left when the statement started: no more than just before the call, however
		// long a loaded machine took to get there.
		assertThat(observer.started).singleElement()
			.satisfies((remaining) -> assertThat(remaining).isPositive().isLessThanOrEqualTo(remainingBefore));
		assertThat(observer.cancelled).singleElement().satisfies((cancelled) -> {
			assertThat(cancelled.cause()).isEqualTo(CancellationCause.DEADLINE_EXCEEDED);
			assertThat(cancelled.latencyNanos()).isPositive().isLessThan(TimeUnit.SECONDS.toNanos(1));
		});
	}

	@Test
	void shorterTransactionTimeoutStillWins() throws Exception {
		ContextDataSource dataSource = wrap(pool(1, null));
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
		tx.setTimeout(1);
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(20));
				Scope scope = ctx.attach()) {
			long start = System.nanoTime();
			Throwable thrown = catchThrowable(
					() -> tx.executeWithoutResult((status) -> jdbc.queryForObject("SELECT SLEEP_MS(30000)", Integer.class)));
			assertThat(thrown).isInstanceOf(DataAccessException.class);
			assertThat(ContextCancelledException.findIn(thrown)).isNull();
			assertThat(ctx.isCancelled()).isFalse();
			assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(5));
		}
	}

	@Test
	void applicationQueryTimeoutIsBackWhenTheStatementRunsWithoutABudget() throws Exception {
		ContextDataSource dataSource = wrap(pool(1, null));
		try (Connection connection = dataSource.getConnection();
				PreparedStatement statement = connection.prepareStatement("SELECT SLEEP_MS(1)")) {
			statement.setQueryTimeout(7);
			try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(1500));
					Scope scope = ctx.attach()) {
				statement.executeQuery().close();
			}
			assertThat(statement.getQueryTimeout()).isEqualTo(7);
			assertThat(statement.unwrap(PreparedStatement.class).getQueryTimeout()).isEqualTo(2);
			statement.executeQuery().close();
			assertThat(statement.unwrap(PreparedStatement.class).getQueryTimeout()).isEqualTo(7);
			try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(30));
					Scope scope = ctx.attach()) {
				statement.executeQuery().close();
				assertThat(statement.unwrap(PreparedStatement.class).getQueryTimeout())
					.as("the application's shorter timeout wins").isEqualTo(7);
			}
		}
	}

	@Test
	void budgetBecomesTheQueryTimeoutInWholeSecondsRoundedUp() throws Exception {
		AtomicReference<PreparedStatement> running = new AtomicReference<>();
		AtomicInteger seenSeconds = new AtomicInteger(-1);
		// The observer hears of a statement after its timeout was lowered, before the driver runs it.
		ContextObserver observer = new ContextObserver() {
			@Override
			public void operationStarted(String operation, long remainingNanos) {
				try {
					seenSeconds.set(running.get().unwrap(PreparedStatement.class).getQueryTimeout());
				}
				catch (SQLException ex) {
					throw new IllegalStateException(ex);
				}
			}
		};
		ContextDataSource dataSource = new ContextDataSource(pool(1, null), ContextDataSource.Settings.DEFAULTS,
				() -> observer);
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(1500));
				Scope scope = ctx.attach(); Connection connection = dataSource.getConnection();
				PreparedStatement statement = connection.prepareStatement("SELECT 1")) {
			running.set(statement);
			statement.executeQuery().close();
			assertThat(statement.getQueryTimeout()).isZero();
		}
		assertThat(seenSeconds).hasValue(2);
	}

	@Test
	void lostCancelIsRepeated() throws Exception {
		LossyDataSource lossy = LossyDataSource.ignoringCancels(h2(), 1);
		JdbcTemplate jdbc = new JdbcTemplate(wrap(pool(1, lossy.dataSource())));
		try (CancellableContext ctx = RequestContext.root().withCancel()) {
			CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(
					() -> catchThrowable(() -> ctx.wrap(() -> jdbc.queryForObject("SELECT SLEEP_MS(30000)", Integer.class)).call()));
			await().atMost(WAIT).pollInterval(POLL).until(() -> !runningSql(ctx).isEmpty());
			ctx.cancel();
			Throwable thrown = outcome.get(3, TimeUnit.SECONDS);
			assertThat(ContextCancelledException.findIn(thrown)).isNotNull();
			assertThat(lossy.cancelCalls).hasValue(2);
			assertThat(lossy.abortCalls).hasValue(0);
		}
	}

	@Test
	void statementThatIgnoresEveryCancelHasItsConnectionAbortedAndEvicted() throws Exception {
		LossyDataSource lossy = LossyDataSource.ignoringCancels(h2(), Integer.MAX_VALUE);
		HikariDataSource pool = pool(1, lossy.dataSource());
		ContextDataSource dataSource = new ContextDataSource(pool,
				new ContextDataSource.Settings(200, Duration.ofMillis(50), Duration.ofMillis(300)), RecordingObserver::new);
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		JdbcConnection before = physicalConnection(pool);
		try (CancellableContext ctx = RequestContext.root().withCancel()) {
			// H2's abort() does nothing, so the statement runs to its end; PostgreSQL's closes the socket.
			CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(
					() -> catchThrowable(() -> ctx.wrap(() -> jdbc.queryForObject("SELECT SLEEP_MS(1500)", Integer.class)).call()));
			await().atMost(WAIT).pollInterval(POLL).until(() -> !runningSql(ctx).isEmpty());
			ctx.cancel();
			await().atMost(WAIT).pollInterval(POLL).until(() -> lossy.abortCalls.get() == 1);
			assertThat(lossy.cancelCalls.get()).isGreaterThan(2);
			outcome.get(5, TimeUnit.SECONDS);
		}
		assertThat(jdbc.queryForObject("SELECT 1", Integer.class)).isEqualTo(1);
		assertThat(physicalConnection(pool)).isNotSameAs(before);
	}

	@Test
	void driverWithoutCancelOrTimeoutsStillWorksAndFailsFast() throws Exception {
		LossyDataSource lossy = LossyDataSource.withoutCancelSupport(h2());
		ContextDataSource dataSource = new ContextDataSource(pool(1, lossy.dataSource()),
				new ContextDataSource.Settings(200, Duration.ofMillis(50), Duration.ofSeconds(5)), RecordingObserver::new);
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(100));
				Scope scope = ctx.attach()) {
			assertThat(jdbc.queryForObject("SELECT SLEEP_MS(300)", Integer.class)).isEqualTo(300);
			assertThat(dataSource.cancelUnsupported).isTrue();
			Throwable thrown = catchThrowable(() -> jdbc.queryForObject("SELECT 1", Integer.class));
			assertThat(ContextCancelledException.findIn(thrown)).isInstanceOf(DeadlineExceededException.class);
		}
		assertThat(jdbc.queryForObject("SELECT 1", Integer.class)).isEqualTo(1);
	}

	@Test
	void plainStatementsAndBatchesRunUnderTheContext() throws Exception {
		ContextDataSource dataSource = wrap(pool(1, null));
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(5));
				Scope scope = ctx.attach(); Connection connection = dataSource.getConnection();
				Statement statement = connection.createStatement()) {
			statement.execute("CREATE TABLE T(ID INT)");
			statement.addBatch("INSERT INTO T VALUES (1)");
			statement.addBatch("INSERT INTO T VALUES (2)");
			assertThat(statement.executeBatch()).containsExactly(1, 1);
			try (ResultSet rs = statement.executeQuery("SELECT COUNT(*) FROM T")) {
				rs.next();
				assertThat(rs.getInt(1)).isEqualTo(2);
			}
			assertThat(statement.getConnection()).isSameAs(connection);
			ctx.cancel();
			assertThatExceptionOfType(ContextCancelledSQLException.class)
				.isThrownBy(() -> statement.executeUpdate("INSERT INTO T VALUES (3)"));
		}
	}

	@Test
	void wrappersUnwrapToThePoolAndTheDriver() throws Exception {
		HikariDataSource pool = pool(1, null);
		ContextDataSource dataSource = wrap(pool);
		assertThat(dataSource.isWrapperFor(HikariDataSource.class)).isTrue();
		assertThat(dataSource.unwrap(HikariDataSource.class)).isSameAs(pool);
		assertThat(dataSource.unwrap(ContextDataSource.class)).isSameAs(dataSource);
		try (Connection connection = dataSource.getConnection()) {
			assertThat(connection.isWrapperFor(JdbcConnection.class)).isTrue();
			assertThat(connection.unwrap(JdbcConnection.class)).isInstanceOf(JdbcConnection.class);
		}
	}

	private static JdbcConnection physicalConnection(DataSource pool) throws SQLException {
		try (Connection connection = pool.getConnection()) {
			return connection.unwrap(JdbcConnection.class);
		}
	}

	static List<String> runningSql(CancellableContext ctx) {
		return Contexts.tree(ctx).operations().stream()
			.filter((op) -> op.kind().equals("jdbc") && !op.description().equals("waiting for a connection"))
			.map(ContextTree.OperationView::description)
			.toList();
	}

}
