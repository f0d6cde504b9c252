package dev.reqctx.testsupport;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for {@link PostgresServer}: the server the other tests rely on really runs SQL, shows
 * what is running, and cancels.
 */
class PostgresServerTests {

	private final ExecutorService executor = Executors.newSingleThreadExecutor();

	@AfterEach
	void stopExecutor() {
		this.executor.shutdownNow();
	}

	@Test
	void startedServerAnswersQueries() throws SQLException {
		try (Connection connection = PostgresServer.get().connect();
				Statement statement = connection.createStatement();
				ResultSet result = statement.executeQuery("select 1")) {
			assertThat(result.next()).isTrue();
			assertThat(result.getInt(1)).isEqualTo(1);
		}
	}

	@Test
	void cancelledStatementStopsRunningOnTheServer() throws Exception {
		PostgresServer pg = PostgresServer.get();
		try (Connection connection = pg.connect(); Statement statement = connection.createStatement()) {
			Future<?> running = this.executor.submit(() -> statement.execute("select pg_sleep(30)"));
			assertThat(pg.awaitActive("%pg_sleep%", 1, Duration.ofSeconds(10))).isTrue();
			assertThat(pg.countActive("%pg_sleep%")).isEqualTo(1);

			statement.cancel();

			assertThat(pg.awaitNoActive("%pg_sleep%", Duration.ofSeconds(1))).isTrue();
			assertThatThrownBy(() -> running.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
				.cause()
				.isInstanceOfSatisfying(SQLException.class,
						(ex) -> assertThat(ex.getSQLState()).as("SQLState of query_canceled").isEqualTo("57014"));
		}
	}

	@Test
	void countActiveIgnoresIdleSessionsAndOtherStatements() throws SQLException {
		PostgresServer pg = PostgresServer.get();
		try (Connection idle = pg.connect(); Statement statement = idle.createStatement()) {
			statement.execute("select 'idle now' as reqctx_marker");
			assertThat(pg.countActive("%reqctx_marker%")).isZero();
			assertThat(pg.countActive("%pg_stat_activity%")).isZero();
		}
	}

	@Test
	void restartBreaksOpenConnectionsAndAcceptsNewOnes() throws SQLException {
		PostgresServer pg = PostgresServer.get();
		try (Connection beforeRestart = pg.connect(); Statement statement = beforeRestart.createStatement()) {
			pg.restart();

			assertThatExceptionOfType(SQLException.class).isThrownBy(() -> statement.execute("select 1"));
		}
		try (Connection afterRestart = pg.connect(); Statement statement = afterRestart.createStatement()) {
			assertThat(statement.execute("select 1")).isTrue();
		}
		assertThat(pg.countActive("%pg_sleep%")).isZero();
	}

	@Test
	void highestServerVersionIsChosenNumerically() {
		assertThat(PostgresServer.LocalCluster.compareVersions("16", "9.6")).isPositive();
		assertThat(PostgresServer.LocalCluster.compareVersions("15", "16")).isNegative();
		assertThat(PostgresServer.LocalCluster.compareVersions("15", "15")).isZero();
	}

}
