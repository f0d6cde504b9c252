package dev.reqctx.benchmarks.load;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.reqctx.testsupport.PostgresServer;

/**
 * A pool storm over real HTTP: the sample service on a real PostgreSQL with a pool of 10, hit
 * at once by 100 slow requests ({@code /demo/sleep?seconds=30} with a 300 ms budget) while a
 * steady stream of fast requests ({@code /demo/orders}, 50 per second, each given 2 s by the
 * client) keeps coming for the storm window. Reports the fast requests' success rate and
 * latency, and when the pool was fully free again (no connection in use, no {@code pg_sleep}
 * active), with reqctx on and with {@code reqctx.jdbc.enabled=false}, alternated round by
 * round (on/off, off/on, ...), each round in a fresh JVM.
 *
 * <p>Everything is bounded: the window (10 s by default), then 3 s for the last fast requests,
 * then the service is stopped and its sessions terminated; the database itself has a 15 s
 * {@code statement_timeout} as a safety net, so no 30 s statement survives the run.
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar dev.reqctx.benchmarks.load.PoolStorm
 * <sample jar> <output folder> [rounds] [window seconds]} (or {@code benchmarks/scripts/pool-storm.sh}).
 */
public final class PoolStorm {

	private static final int SLOW_REQUESTS = 100;

	private static final int FAST_PER_SECOND = 50;

	private static final Duration FAST_CLIENT_TIMEOUT = Duration.ofSeconds(2);

	private static final Pattern VALUE = Pattern.compile("\"value\"\\s*:\\s*([0-9.]+)");

	/** The service running now, stopped by a shutdown hook if this JVM is told to stop. */
	private static volatile Process running;

	private PoolStorm() {
	}

	public static void main(String[] args) throws Exception {
		String jar = args[0];
		File out = new File(args[1]);
		int rounds = (args.length > 2) ? Integer.parseInt(args[2]) : 2;
		int windowSeconds = (args.length > 3) ? Integer.parseInt(args[3]) : 10;
		out.mkdirs();
		System.out.printf("# pool-storm %s, %s %s, nproc %d, load %s%n", OffsetDateTime.now(),
				System.getProperty("java.vm.name"), System.getProperty("java.version"),
				Runtime.getRuntime().availableProcessors(), Stats.load());
		System.out.printf("# pool 10, %d slow requests (30 s SQL, Request-Timeout-Ms: 300) at t=0, %d fast"
				+ " requests/s for %d s (client timeout %d ms), %d round(s) per mode%n", SLOW_REQUESTS, FAST_PER_SECOND,
				windowSeconds, FAST_CLIENT_TIMEOUT.toMillis(), rounds);
		Runtime.getRuntime().addShutdownHook(new Thread(() -> {
			Process service = running;
			if (service != null) {
				service.destroyForcibly();
			}
		}, "pool-storm-stop"));
		PostgresServer pg = PostgresServer.get();
		try (Connection monitor = pg.connect()) {
			try (Statement st = monitor.createStatement()) {
				// The safety net: whatever happens, no statement of the service runs past 15 s.
				st.execute("ALTER DATABASE postgres SET statement_timeout = '15s'");
			}
			Map<String, List<Round>> byMode = new TreeMap<>(Collections.reverseOrder());
			for (int round = 1; round <= rounds; round++) {
				boolean[] order = (round % 2 == 1) ? new boolean[] { true, false } : new boolean[] { false, true };
				for (boolean reqctx : order) {
					Round result = runRound(jar, out, pg, monitor, reqctx, round, windowSeconds);
					System.out.println(result);
					byMode.computeIfAbsent(result.mode(), (k) -> new ArrayList<>()).add(result);
				}
			}
			System.out.printf("%nsummary (all rounds)%n%-18s %9s %10s %22s  %s%n", "mode", "fast ok", "ok rate",
					"fast p50 / p99 ms", "pool free after ms, per round");
			byMode.forEach((mode, results) -> {
				List<Long> latencies = new ArrayList<>();
				long ok = 0;
				long total = 0;
				List<String> free = new ArrayList<>();
				for (Round r : results) {
					latencies.addAll(r.fastLatencies());
					ok += r.fastOk();
					total += r.fastTotal();
					free.add(r.freeAfter() + " (last slow answered " + r.lastSlowDone() + ")");
				}
				Stats s = new Stats(latencies);
				System.out.printf(Locale.ROOT, "%-18s %4d/%-4d %9.2f%% %22s  %s%n", mode, ok, total, 100.0 * ok / total,
						Stats.ms(s.percentile(50)) + " / " + Stats.ms(s.percentile(99)), String.join(", ", free));
			});
			try (Statement st = monitor.createStatement()) {
				st.execute("ALTER DATABASE postgres RESET statement_timeout");
			}
		}
		System.out.printf("# load at end %s%n", Stats.load());
		System.exit(0);
	}

	private static Round runRound(String jar, File out, PostgresServer pg, Connection monitor, boolean reqctx, int round,
			int windowSeconds) throws Exception {
		String mode = reqctx ? "reqctx" : "jdbc.enabled=false";
		int port = freePort();
		File log = new File(out, "pool-storm-round" + round + "-" + (reqctx ? "reqctx" : "off") + ".log");
		Process service = new ProcessBuilder("java", "-Xms256m", "-Xmx256m", "-jar", jar, "--server.port=" + port,
				"--spring.profiles.active=postgres", "--spring.datasource.url=" + pg.jdbcUrl(),
				"--spring.datasource.username=" + pg.username(), "--spring.datasource.password=" + pg.password(),
				"--spring.datasource.hikari.maximum-pool-size=10", "--reqctx.jdbc.enabled=" + reqctx,
				"--logging.level.root=warn", "--spring.main.banner-mode=off")
			.redirectErrorStream(true)
			.redirectOutput(log)
			.start();
		running = service;
		ExecutorService httpThreads = Executors.newCachedThreadPool();
		ScheduledExecutorService ticker = Executors.newScheduledThreadPool(2);
		HttpClient http = HttpClient.newBuilder()
			.version(HttpClient.Version.HTTP_1_1)
			.connectTimeout(Duration.ofSeconds(2))
			.executor(httpThreads)
			.build();
		String base = "http://127.0.0.1:" + port;
		try {
			awaitReady(http, base + "/demo/orders", service, log);
			for (int i = 0; i < 50; i++) {
				get(http, base + "/demo/orders", null, FAST_CLIENT_TIMEOUT).join();
			}
			long t0 = System.nanoTime();
			List<CompletableFuture<Outcome>> slow = new ArrayList<>();
			for (int i = 0; i < SLOW_REQUESTS; i++) {
				slow.add(get(http, base + "/demo/sleep?seconds=30", "300", Duration.ofSeconds(windowSeconds + 3)));
			}
			List<CompletableFuture<Outcome>> fast = Collections.synchronizedList(new ArrayList<>());
			int fastCount = windowSeconds * FAST_PER_SECOND;
			AtomicLong sent = new AtomicLong();
			ScheduledFuture<?> stream = ticker.scheduleAtFixedRate(() -> {
				if (sent.getAndIncrement() < fastCount) {
					fast.add(get(http, base + "/demo/orders", null, FAST_CLIENT_TIMEOUT));
				}
			}, 0, 1000 / FAST_PER_SECOND, TimeUnit.MILLISECONDS);
			PoolWatcher watcher = new PoolWatcher(monitor, http, base, t0);
			ScheduledFuture<?> watch = ticker.scheduleWithFixedDelay(watcher, 0, 10, TimeUnit.MILLISECONDS);
			long windowEnd = t0 + TimeUnit.SECONDS.toNanos(windowSeconds);
			while (System.nanoTime() - windowEnd < 0 && sent.get() < fastCount) {
				Thread.sleep(50);
			}
			stream.cancel(false);
			// The last fast requests get their whole client timeout.
			CompletableFuture.allOf(fast.toArray(CompletableFuture[]::new))
				.completeOnTimeout(null, FAST_CLIENT_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS)
				.join();
			watch.cancel(false);
			List<Long> latencies = new ArrayList<>();
			long ok = 0;
			synchronized (fast) {
				for (CompletableFuture<Outcome> f : fast) {
					Outcome o = f.getNow(Outcome.PENDING);
					latencies.add(o.nanos());
					ok += o.ok() ? 1 : 0;
				}
			}
			Map<String, Integer> slowOutcomes = new TreeMap<>();
			long lastSlowDone = -1;
			for (CompletableFuture<Outcome> f : slow) {
				Outcome o = f.getNow(Outcome.PENDING);
				slowOutcomes.merge(o.what(), 1, Integer::sum);
				lastSlowDone = (o.doneAt() < 0 || lastSlowDone == Long.MAX_VALUE) ? Long.MAX_VALUE
						: Math.max(lastSlowDone, o.doneAt() - t0);
			}
			String lastSlow = (lastSlowDone == Long.MAX_VALUE) ? "never (> window)"
					: Long.toString(TimeUnit.NANOSECONDS.toMillis(lastSlowDone));
			return new Round(mode, round, fast.size(), ok, latencies, watcher.freeAfter(), lastSlow, slowOutcomes,
					Stats.load());
		}
		finally {
			ticker.shutdownNow();
			service.destroy();
			if (!service.waitFor(10, TimeUnit.SECONDS)) {
				service.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
			}
			httpThreads.shutdownNow();
			try (Statement st = monitor.createStatement()) {
				st.execute("select pg_terminate_backend(pid) from pg_stat_activity"
						+ " where backend_type = 'client backend' and pid <> pg_backend_pid()");
			}
		}
	}

	private static CompletableFuture<Outcome> get(HttpClient http, String url, String budgetMs, Duration timeout) {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET();
		if (budgetMs != null) {
			request.header("Request-Timeout-Ms", budgetMs);
		}
		long start = System.nanoTime();
		return http.sendAsync(request.build(), HttpResponse.BodyHandlers.discarding())
			.handle((response, failure) -> {
				long nanos = System.nanoTime() - start;
				if (failure != null) {
					return new Outcome(false, nanos, "client timeout or error", start + nanos);
				}
				return new Outcome(response.statusCode() == 200, nanos, Integer.toString(response.statusCode()),
						start + nanos);
			});
	}

	private static void awaitReady(HttpClient http, String url, Process service, File log) throws Exception {
		long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
		while (System.nanoTime() - giveUp < 0) {
			if (!service.isAlive()) {
				throw new IllegalStateException("The sample service exited; see " + log);
			}
			try {
				HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
						HttpResponse.BodyHandlers.discarding());
				if (r.statusCode() == 200) {
					return;
				}
			}
			catch (IOException ex) {
				// not listening yet
			}
			Thread.sleep(100);
		}
		throw new IllegalStateException("The sample service did not start within 120 s; see " + log);
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
	}

	private record Outcome(boolean ok, long nanos, String what, long doneAt) {

		static final Outcome PENDING = new Outcome(false, FAST_CLIENT_TIMEOUT.toNanos(), "still running at the end", -1);

	}

	private record Round(String mode, int round, long fastTotal, long fastOk, List<Long> fastLatencies,
			String freeAfter, String lastSlowDone, Map<String, Integer> slowOutcomes, String load) {

		@Override
		public String toString() {
			Stats s = new Stats(this.fastLatencies);
			return String.format(Locale.ROOT,
					"round %d %-18s fast ok %d/%d (%.2f%%), fast p50 %s p99 %s max %s ms; pool free after %s ms;"
							+ " last slow request answered after %s ms; slow requests: %s; load %s",
					this.round, this.mode, this.fastOk, this.fastTotal, 100.0 * this.fastOk / this.fastTotal,
					Stats.ms(s.percentile(50)), Stats.ms(s.percentile(99)), Stats.ms(s.max()), this.freeAfter,
					this.lastSlowDone, this.slowOutcomes, this.load);
		}

	}

	/**
	 * Samples the pool (Hikari's active connections through actuator) and the database (active
	 * {@code pg_sleep} statements) every 10 ms, and remembers when both first read zero after
	 * having been busy.
	 */
	private static final class PoolWatcher implements Runnable {

		private final PreparedStatement activeSleeps;

		private final HttpClient http;

		private final URI metric;

		private final long t0;

		private boolean busy;

		private volatile long freeAt = -1;

		PoolWatcher(Connection monitor, HttpClient http, String base, long t0) throws SQLException {
			this.activeSleeps = monitor.prepareStatement("select count(*) from pg_stat_activity where state = 'active'"
					+ " and query like '%pg_sleep%' and pid <> pg_backend_pid()");
			this.http = http;
			this.metric = URI.create(base + "/actuator/metrics/hikaricp.connections.active");
			this.t0 = t0;
		}

		@Override
		public void run() {
			if (this.freeAt >= 0) {
				return;
			}
			try {
				int sleeps;
				try (ResultSet rs = this.activeSleeps.executeQuery()) {
					rs.next();
					sleeps = rs.getInt(1);
				}
				HttpResponse<String> r = this.http.send(
						HttpRequest.newBuilder(this.metric).timeout(Duration.ofSeconds(1)).build(),
						HttpResponse.BodyHandlers.ofString());
				Matcher m = VALUE.matcher(r.body());
				double active = m.find() ? Double.parseDouble(m.group(1)) : -1;
				long now = System.nanoTime();
				if (sleeps > 0 || active > 0) {
					this.busy = true;
				}
				else if (this.busy && active == 0) {
					this.freeAt = now;
				}
			}
			catch (Exception ex) {
				// A missed sample; the next one comes in 10 ms.
			}
		}

		String freeAfter() {
			long at = this.freeAt;
			return (at >= 0) ? Long.toString(TimeUnit.NANOSECONDS.toMillis(at - this.t0)) : "never (> window)";
		}

	}

}
