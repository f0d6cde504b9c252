package dev.reqctx.benchmarks.load;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.reqctx.CancellableContext;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.jdbc.ContextDataSource;
import dev.reqctx.testsupport.H2Sleep;
import dev.reqctx.testsupport.PostgresServer;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * How late a statement stops after its deadline: on a real PostgreSQL (a throwaway cluster, as
 * the tests start it) and on in-memory H2, with reqctx against what the database and JDBC offer
 * without it, alternated statement by statement in the same run.
 *
 * <p>Each sample runs one sleeping statement ({@code pg_sleep(5)}, or a cancellable 5 s sleep
 * function on H2) with a budget of {@code budgetMs}, one at a time, and measures from the
 * deadline to (a) the exception in the calling thread and, on PostgreSQL, (b) the moment the
 * statement is no longer {@code active} in {@code pg_stat_activity} (polled every 0.5 ms from
 * another connection, so (b) is accurate to about a millisecond). The ways to stop it:
 * <ul>
 * <li>{@code reqctx}: the statement runs under {@code RequestContext.withTimeout(budget)} on a
 * {@link ContextDataSource};
 * <li>{@code statement_timeout}: PostgreSQL's own timer ({@code SET statement_timeout}), the
 * floor; on H2 its equivalent {@code SET QUERY_TIMEOUT} (milliseconds);
 * <li>{@code setQueryTimeout(1s)}: {@link JdbcTemplate#setQueryTimeout(int)}, what an
 * application has without reqctx: whole seconds, so a 100 ms budget becomes 1 s; measured
 * from the budget the caller wanted.
 * </ul>
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar dev.reqctx.benchmarks.load.CancelLatency [samples] [budgetMs]}
 * (or {@code benchmarks/scripts/cancel-latency.sh}).
 */
public final class CancelLatency {

	private static final int SLEEP_SECONDS = 5;

	private CancelLatency() {
	}

	public static void main(String[] args) throws Exception {
		int samples = (args.length > 0) ? Integer.parseInt(args[0]) : 60;
		int budgetMs = (args.length > 1) ? Integer.parseInt(args[1]) : 100;
		System.out.printf("# cancel-latency %s, %s %s, nproc %d, load %s%n", OffsetDateTime.now(),
				System.getProperty("java.vm.name"), System.getProperty("java.version"),
				Runtime.getRuntime().availableProcessors(), Stats.load());
		System.out.printf("# %d samples per mode (setQueryTimeout: a third of that), budget %d ms, one at a time%n",
				samples, budgetMs);
		postgres(samples, budgetMs);
		h2(samples, budgetMs);
		System.out.printf("# load at end %s%n", Stats.load());
	}

	private static void postgres(int samples, int budgetMs) throws Exception {
		PostgresServer pg = PostgresServer.get();
		try (HikariDataSource pool = pg.newHikariDataSource(4); Connection monitor = pg.connect()) {
			JdbcTemplate reqctx = new JdbcTemplate(new ContextDataSource(pool));
			JdbcTemplate queryTimeout = new JdbcTemplate(pool);
			queryTimeout.setQueryTimeout(1);
			Map<String, Mode> modes = new LinkedHashMap<>();
			modes.put("reqctx", (sql) -> underContext(budgetMs, () -> reqctx.queryForObject(sql, Integer.class)));
			modes.put("statement_timeout", (sql) -> withSessionTimeout(pool, "SET statement_timeout = " + budgetMs,
					"RESET statement_timeout", budgetMs, sql));
			modes.put("setQueryTimeout(1s)",
					(sql) -> timed(budgetMs, () -> queryTimeout.queryForObject(sql, Integer.class)));
			Results results = run("PostgreSQL", modes, samples, (mode, i) -> "SELECT /* cl_" + mode.replaceAll("\\W", "")
					+ "_" + i + " */ 1 FROM pg_sleep(" + SLEEP_SECONDS + ")", monitor);
			results.print("PostgreSQL", "statement_timeout");
		}
	}

	private static void h2(int samples, int budgetMs) throws Exception {
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl("jdbc:h2:mem:cancel_latency;DB_CLOSE_DELAY=-1");
		config.setMaximumPoolSize(4);
		config.setPoolName("cancel-latency-h2");
		try (HikariDataSource pool = new HikariDataSource(config)) {
			try (Connection c = pool.getConnection()) {
				H2Sleep.install(c);
			}
			JdbcTemplate reqctx = new JdbcTemplate(new ContextDataSource(pool));
			JdbcTemplate queryTimeout = new JdbcTemplate(pool);
			queryTimeout.setQueryTimeout(1);
			Map<String, Mode> modes = new LinkedHashMap<>();
			modes.put("reqctx", (sql) -> underContext(budgetMs, () -> reqctx.queryForObject(sql, Integer.class)));
			modes.put("SET QUERY_TIMEOUT", (sql) -> withSessionTimeout(pool, "SET QUERY_TIMEOUT " + budgetMs,
					"SET QUERY_TIMEOUT 0", budgetMs, sql));
			modes.put("setQueryTimeout(1s)",
					(sql) -> timed(budgetMs, () -> queryTimeout.queryForObject(sql, Integer.class)));
			Results results = run("H2", modes, samples, (mode, i) -> "SELECT SLEEP_MS(" + SLEEP_SECONDS * 1000 + ")",
					null);
			results.print("H2", "SET QUERY_TIMEOUT");
		}
	}

	private static Results run(String database, Map<String, Mode> modes, int samples, SqlFor sqlFor,
			Connection monitor) throws Exception {
		Results results = new Results(modes.keySet());
		List<String> names = new ArrayList<>(modes.keySet());
		int warmup = 5;
		for (int i = -warmup; i < samples; i++) {
			// Rotate the order so that no mode always runs right after the same other one.
			for (int k = 0; k < names.size(); k++) {
				String name = names.get(Math.floorMod(i + k, names.size()));
				boolean slow = name.startsWith("setQueryTimeout");
				if (slow && Math.floorMod(i, 3) != 0) {
					continue;
				}
				String sql = sqlFor.sql(name, i);
				ActivityWatcher watcher = (monitor != null) ? ActivityWatcher.start(monitor, sql) : null;
				Sample sample = modes.get(name).run(sql);
				long goneAt = (watcher != null) ? watcher.awaitGone() : -1;
				if (i >= 0) {
					results.add(name, sample, goneAt);
				}
			}
		}
		return results;
	}

	private static Sample underContext(int budgetMs, Runnable work) {
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(budgetMs));
				Scope scope = ctx.attach()) {
			long deadline = ctx.deadline().orElseThrow().nanoTime();
			return Sample.of(deadline, work);
		}
	}

	private static Sample timed(int budgetMs, Runnable work) {
		return Sample.of(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(budgetMs), work);
	}

	private static Sample withSessionTimeout(DataSource pool, String set, String reset, int budgetMs, String sql) {
		try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
			st.execute(set);
			try {
				return timed(budgetMs, () -> {
					try (ResultSet rs = st.executeQuery(sql)) {
						rs.next();
					}
					catch (SQLException ex) {
						throw new IllegalStateException(ex);
					}
				});
			}
			finally {
				st.execute(reset);
			}
		}
		catch (SQLException ex) {
			throw new IllegalStateException(ex);
		}
	}

	@FunctionalInterface
	private interface Mode {

		Sample run(String sql);

	}

	@FunctionalInterface
	private interface SqlFor {

		String sql(String mode, int index);

	}

	/** When the deadline was, when the caller saw the failure, and what it was. */
	private record Sample(long deadline, long thrownAt, String failure) {

		static Sample of(long deadline, Runnable work) {
			try {
				work.run();
				return new Sample(deadline, -1, "none: the statement completed");
			}
			catch (RuntimeException ex) {
				long at = System.nanoTime();
				Throwable root = ex;
				while (root.getCause() != null && root.getCause() != root) {
					root = root.getCause();
				}
				return new Sample(deadline, at, ex.getClass().getSimpleName() + " <- " + root.getClass().getSimpleName());
			}
		}

	}

	/** Polls pg_stat_activity for one statement on its own thread: when it was last seen active. */
	private static final class ActivityWatcher implements Runnable {

		private static final String QUERY = "select count(*) from pg_stat_activity where state = 'active'"
				+ " and query = ? and pid <> pg_backend_pid()";

		private final Connection monitor;

		private final String sql;

		private final Thread thread;

		private volatile long goneAt = -1;

		private ActivityWatcher(Connection monitor, String sql) {
			this.monitor = monitor;
			this.sql = sql;
			this.thread = new Thread(this, "activity-watcher");
			this.thread.setDaemon(true);
		}

		static ActivityWatcher start(Connection monitor, String sql) {
			ActivityWatcher watcher = new ActivityWatcher(monitor, sql);
			watcher.thread.start();
			return watcher;
		}

		@Override
		public void run() {
			long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(SLEEP_SECONDS + 2);
			boolean seen = false;
			try (PreparedStatement ps = this.monitor.prepareStatement(QUERY)) {
				ps.setString(1, this.sql);
				while (System.nanoTime() - giveUp < 0) {
					int active;
					try (ResultSet rs = ps.executeQuery()) {
						rs.next();
						active = rs.getInt(1);
					}
					long now = System.nanoTime();
					if (active > 0) {
						seen = true;
					}
					else if (seen) {
						this.goneAt = now;
						return;
					}
					LockSupport.parkNanos(500_000);
				}
			}
			catch (SQLException ex) {
				throw new IllegalStateException(ex);
			}
		}

		long awaitGone() throws InterruptedException {
			this.thread.join();
			return this.goneAt;
		}

	}

	/** Latencies per mode. */
	private static final class Results {

		private final Map<String, List<Long>> thrown = new LinkedHashMap<>();

		private final Map<String, List<Long>> gone = new LinkedHashMap<>();

		private final Map<String, String> failures = new LinkedHashMap<>();

		private final Map<String, Integer> missing = new LinkedHashMap<>();

		Results(Iterable<String> modes) {
			for (String mode : modes) {
				this.thrown.put(mode, new ArrayList<>());
				this.gone.put(mode, new ArrayList<>());
				this.missing.put(mode, 0);
			}
		}

		void add(String mode, Sample sample, long goneAt) {
			this.failures.putIfAbsent(mode, sample.failure());
			if (sample.thrownAt() < 0) {
				this.missing.merge(mode, 1, Integer::sum);
				return;
			}
			this.thrown.get(mode).add(sample.thrownAt() - sample.deadline());
			if (goneAt >= 0) {
				this.gone.get(mode).add(goneAt - sample.deadline());
			}
		}

		void print(String database, String floor) {
			System.out.printf("%n%s: from the deadline to ... (ms, p50 / p99 / max)%n", database);
			System.out.printf("%-22s %5s %-28s %-28s %s%n", "mode", "n", "(a) exception in the caller",
					"(b) gone from pg_stat_activity", "p99(a) vs " + floor);
			long floorP99 = new Stats(this.thrown.get(floor)).percentile(99);
			for (String mode : this.thrown.keySet()) {
				Stats a = new Stats(this.thrown.get(mode));
				Stats b = new Stats(this.gone.get(mode));
				System.out.printf("%-22s %5d %-28s %-28s %s%n", mode, a.count(), a.summary(),
						(b.count() > 0) ? b.summary() + " (n=" + b.count() + ")" : "-",
						(floorP99 > 0) ? String.format(java.util.Locale.ROOT, "%.2fx", (double) a.percentile(99) / floorP99)
								: "-");
			}
			this.failures.forEach((mode, failure) -> System.out.printf("  %s fails with %s%s%n", mode, failure,
					(this.missing.get(mode) > 0) ? " (" + this.missing.get(mode) + " statements completed!)" : ""));
		}

	}

}
