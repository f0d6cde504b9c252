package dev.reqctx.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.reqctx.CancellableContext;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;

/**
 * Prints what {@link ContextDataSource} costs per statement on an in-memory H2 database behind
 * HikariCP, the cheapest round trip there is, so the overhead is as visible as it gets. Not a
 * test: run it by hand from the test classpath, for example
 * {@code java -cp "$(cat cp.txt):target/classes:target/test-classes" dev.reqctx.jdbc.JdbcOverhead}
 * after {@code ./mvnw -pl autoconfigure dependency:build-classpath -Dmdep.outputFile=cp.txt
 * -Dmdep.includeScope=test test-compile}.
 */
public final class JdbcOverhead {

	private JdbcOverhead() {
	}

	public static void main(String[] args) throws Exception {
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl("jdbc:h2:mem:overhead;DB_CLOSE_DELAY=-1");
		config.setMaximumPoolSize(1);
		try (HikariDataSource pool = new HikariDataSource(config)) {
			DataSource wrapped = new ContextDataSource(pool);
			int n = 200_000;
			for (int round = 1; round <= 5; round++) {
				for (boolean preparePerCall : new boolean[] { false, true }) {
					long raw = run(pool, n, false, preparePerCall);
					long untracked = run(wrapped, n, false, preparePerCall);
					long tracked = run(wrapped, n, true, preparePerCall);
					System.out.printf("round %d, %s: raw %.0f ns, wrapped outside a context %.0f ns (%.2fx), "
							+ "wrapped with a deadline %.0f ns (%.2fx)%n", round,
							preparePerCall ? "prepare+execute+close" : "execute a prepared statement",
							raw / (double) n, untracked / (double) n, untracked / (double) raw, tracked / (double) n,
							tracked / (double) raw);
				}
			}
		}
	}

	private static long run(DataSource dataSource, int n, boolean inContext, boolean preparePerCall)
			throws Exception {
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMinutes(5))) {
			Scope scope = inContext ? ctx.attach() : null;
			try (Connection connection = dataSource.getConnection();
					PreparedStatement shared = connection.prepareStatement("SELECT ?")) {
				long start = System.nanoTime();
				for (int i = 0; i < n; i++) {
					PreparedStatement statement = preparePerCall ? connection.prepareStatement("SELECT ?") : shared;
					statement.setInt(1, i);
					try (ResultSet rs = statement.executeQuery()) {
						rs.next();
					}
					if (preparePerCall) {
						statement.close();
					}
				}
				return System.nanoTime() - start;
			}
			finally {
				if (scope != null) {
					scope.close();
				}
			}
		}
	}

}
