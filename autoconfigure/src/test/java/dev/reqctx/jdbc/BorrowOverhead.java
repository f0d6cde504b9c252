package dev.reqctx.jdbc;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.reqctx.CancellableContext;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.testsupport.PostgresServer;

/**
 * Prints what borrowing a connection and running {@code SELECT 1} costs on a real PostgreSQL
 * under a deadline, through {@link ContextDataSource}, with and without the driver defaults
 * ({@link BreakableSocketFactory} on every socket read, 1 s cancel timeout), in alternating
 * rounds of one run. Not a test: run it by hand from the test classpath, for example
 * {@code java -cp "$(cat cp.txt):target/classes:target/test-classes" dev.reqctx.jdbc.BorrowOverhead}
 * after {@code ./mvnw -pl autoconfigure dependency:build-classpath -Dmdep.outputFile=cp.txt
 * -Dmdep.includeScope=test test-compile}.
 */
public final class BorrowOverhead {

	private BorrowOverhead() {
	}

	public static void main(String[] args) throws Exception {
		int n = (args.length > 0) ? Integer.parseInt(args[0]) : 20_000;
		int rounds = (args.length > 1) ? Integer.parseInt(args[1]) : 6;
		PostgresServer pg = PostgresServer.get();
		try (HikariDataSource plain = pool(pg, false); HikariDataSource breakable = pool(pg, true)) {
			DataSource a = new ContextDataSource(plain);
			DataSource b = new ContextDataSource(breakable);
			run(a, n);
			run(b, n);
			double[] ratios = new double[rounds];
			for (int round = 0; round < rounds; round++) {
				boolean aFirst = round % 2 == 0;
				long first = run(aFirst ? a : b, n);
				long second = run(aFirst ? b : a, n);
				long timeA = aFirst ? first : second;
				long timeB = aFirst ? second : first;
				ratios[round] = timeB / (double) timeA;
				System.out.printf("round %d: without driver defaults %.1f us, with %.1f us per borrow + SELECT 1 (%.3fx)%n",
						round + 1, timeA / 1e3 / n, timeB / 1e3 / n, ratios[round]);
			}
			Arrays.sort(ratios);
			System.out.printf("median ratio with/without: %.3f (min %.3f, max %.3f)%n", ratios[rounds / 2], ratios[0],
					ratios[rounds - 1]);
		}
	}

	private static HikariDataSource pool(PostgresServer pg, boolean driverDefaults) {
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl(pg.jdbcUrl());
		config.setUsername(pg.username());
		config.setPassword(pg.password());
		config.setMaximumPoolSize(2);
		if (driverDefaults) {
			HikariPostgresDefaults.apply(config);
		}
		return new HikariDataSource(config);
	}

	@SuppressWarnings("try")
	private static long run(DataSource dataSource, int n) throws Exception {
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMinutes(5));
				Scope scope = ctx.attach()) {
			long start = System.nanoTime();
			for (int i = 0; i < n; i++) {
				try (Connection connection = dataSource.getConnection();
						Statement statement = connection.createStatement();
						ResultSet rs = statement.executeQuery("SELECT 1")) {
					rs.next();
				}
			}
			return System.nanoTime() - start;
		}
	}

}
