package dev.reqctx.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import java.util.stream.Stream;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * A real PostgreSQL server for tests, one per JVM, started on first use and stopped when the
 * JVM exits.
 *
 * <p>Tests of cancellation need the real thing: only a real server shows that a statement
 * stopped running on the database, not just in the client. Typical use:
 * <pre>
 * PostgresServer pg = PostgresServer.get();
 * try (HikariDataSource dataSource = pg.newHikariDataSource(4)) {
 *     // run "select pg_sleep(30)" through the code under test, cancel it, then:
 *     assertThat(pg.awaitNoActive("%pg_sleep%", Duration.ofSeconds(1))).isTrue();
 * }
 * </pre>
 *
 * <p>By default the server is a throwaway cluster: {@code initdb} into a new directory under
 * {@code java.io.tmpdir}, then {@code postgres} on a free port of 127.0.0.1 with durability
 * turned off, trust authentication, user {@code postgres}, and the {@code postgres} database
 * (the whole cluster is thrown away, so no separate database is created). PostgreSQL refuses
 * to run as root, so as root the server runs as the {@code postgres} OS user. The binaries
 * are the highest version under {@code /usr/lib/postgresql/*}{@code /bin}, or the directory in
 * the environment variable {@code REQCTX_PG_BIN}; {@code scripts/install-postgres.sh}
 * installs them.
 *
 * <p>To use a server that is already running instead, set the system property
 * {@code reqctx.pg.url} (or the environment variable {@code REQCTX_PG_URL}) to its JDBC URL,
 * with {@code reqctx.pg.user} and {@code reqctx.pg.password} ({@code REQCTX_PG_USER},
 * {@code REQCTX_PG_PASSWORD}) when they are not {@code postgres} and empty. Such a server may
 * be shared, so patterns given to {@link #countActive(String)} should be unique to a test.
 *
 * <p>When the server cannot be started, {@link #get()} throws, in that call and every later
 * one in the JVM: a test that needs PostgreSQL fails, it is never skipped.
 */
public final class PostgresServer {

	private static final Object INSTANCE_LOCK = new Object();

	private static PostgresServer instance;

	private static RuntimeException startFailure;

	private static final AtomicInteger poolCount = new AtomicInteger();

	private static final String COUNT_ACTIVE = """
			select count(*) from pg_stat_activity
			where state = 'active' and backend_type = 'client backend'
			and query like ? and pid <> pg_backend_pid()""";

	private final String jdbcUrl;

	private final String username;

	private final String password;

	private final LocalCluster cluster;

	private final Object monitorLock = new Object();

	private Connection monitor;

	private PostgresServer(String jdbcUrl, String username, String password, LocalCluster cluster) {
		this.jdbcUrl = jdbcUrl;
		this.username = username;
		this.password = password;
		this.cluster = cluster;
	}

	/**
	 * Returns the server of this JVM, starting it on the first call.
	 * @return the running server
	 * @throws IllegalStateException if the server cannot be started or reached; the message
	 * says why, with the end of the server's log
	 */
	public static PostgresServer get() {
		synchronized (INSTANCE_LOCK) {
			if (instance != null) {
				return instance;
			}
			// Starting takes seconds and fails the same way every time, so later tests fail at
			// once with the first cause instead of each waiting for their own failure.
			if (startFailure != null) {
				throw new IllegalStateException(
						"PostgreSQL failed to start earlier in this JVM: " + startFailure.getMessage(), startFailure);
			}
			try {
				instance = create();
				return instance;
			}
			catch (RuntimeException ex) {
				startFailure = ex;
				throw ex;
			}
		}
	}

	/**
	 * Points a Spring test application's data source at the shared server: call it from a
	 * {@code @DynamicPropertySource} method.
	 * @param registry the test's property registry
	 */
	public static void registerDataSource(DynamicPropertyRegistry registry) {
		PostgresServer server = get();
		registry.add("spring.datasource.url", server::jdbcUrl);
		registry.add("spring.datasource.username", server::username);
		registry.add("spring.datasource.password", server::password);
	}

	private static PostgresServer create() {
		String url = setting("reqctx.pg.url", "REQCTX_PG_URL", "");
		if (!url.isEmpty()) {
			PostgresServer server = new PostgresServer(url, setting("reqctx.pg.user", "REQCTX_PG_USER", "postgres"),
					setting("reqctx.pg.password", "REQCTX_PG_PASSWORD", ""), null);
			try {
				server.connect().close();
				return server;
			}
			catch (SQLException ex) {
				throw new IllegalStateException("Cannot connect to the PostgreSQL server at " + url
						+ " given by reqctx.pg.url / REQCTX_PG_URL: " + ex.getMessage(), ex);
			}
		}
		long started = System.nanoTime();
		LocalCluster cluster = LocalCluster.create();
		// Before starting, so that a start that fails halfway is cleaned up too.
		Runtime.getRuntime().addShutdownHook(new Thread(cluster::destroy, "reqctx-postgres-stop"));
		try {
			cluster.start();
		}
		catch (RuntimeException ex) {
			cluster.destroy();
			throw ex;
		}
		PostgresServer server = new PostgresServer(cluster.jdbcUrl(), "postgres", "", cluster);
		System.err.printf("PostgresServer: PostgreSQL %s on %s started in %d ms (data in %s)%n", cluster.version,
				server.jdbcUrl, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), cluster.dataDir);
		return server;
	}

	/**
	 * Returns the JDBC URL of the server.
	 * @return the JDBC URL, for {@code jdbc:postgresql:} (PgJDBC)
	 */
	public String jdbcUrl() {
		return this.jdbcUrl;
	}

	/**
	 * Returns the user name to connect with.
	 * @return the user name
	 */
	public String username() {
		return this.username;
	}

	/**
	 * Returns the password to connect with.
	 * @return the password, empty when the server trusts local connections
	 */
	public String password() {
		return this.password;
	}

	/**
	 * Opens a new connection to the server, outside of any pool. The caller closes it.
	 * @return a new connection
	 * @throws SQLException if the server cannot be reached
	 */
	public Connection connect() throws SQLException {
		Properties properties = new Properties();
		properties.setProperty("user", this.username);
		properties.setProperty("password", this.password);
		return DriverManager.getConnection(this.jdbcUrl, properties);
	}

	/**
	 * Creates a new Hikari connection pool to the server. The caller closes it, which closes
	 * its connections.
	 * @param maxPoolSize the maximum number of connections in the pool
	 * @return a new pool
	 */
	public HikariDataSource newHikariDataSource(int maxPoolSize) {
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl(this.jdbcUrl);
		config.setUsername(this.username);
		config.setPassword(this.password);
		config.setMaximumPoolSize(maxPoolSize);
		config.setPoolName("reqctx-test-pg-" + poolCount.incrementAndGet());
		return new HikariDataSource(config);
	}

	/**
	 * Counts the statements that are running on the server now and whose text matches a
	 * pattern: client sessions whose state is {@code active}, as {@code pg_stat_activity}
	 * shows them, not counting the session that asks. Parallel workers are not counted, so
	 * one statement counts once.
	 * @param queryLike a SQL {@code LIKE} pattern for the statement text, such as
	 * {@code "%pg_sleep%"}
	 * @return the number of matching statements running now
	 */
	public int countActive(String queryLike) {
		synchronized (this.monitorLock) {
			try {
				return countActive(monitor(), queryLike);
			}
			catch (SQLException ex) {
				// The monitoring connection does not survive a restart of the server, so one
				// retry on a new connection tells a stale connection from a server that is gone.
				closeMonitor();
				try {
					return countActive(monitor(), queryLike);
				}
				catch (SQLException retryEx) {
					retryEx.addSuppressed(ex);
					throw new IllegalStateException("Cannot query pg_stat_activity on " + this.jdbcUrl, retryEx);
				}
			}
		}
	}

	/**
	 * Waits until no statement matching a pattern runs on the server, as
	 * {@link #countActive(String)} counts them.
	 * @param queryLike a SQL {@code LIKE} pattern for the statement text
	 * @param timeout how long to wait at most
	 * @return whether no matching statement was running before the timeout
	 */
	public boolean awaitNoActive(String queryLike, Duration timeout) {
		return await(queryLike, (active) -> active == 0, timeout);
	}

	/**
	 * Waits until at least a number of statements matching a pattern run on the server, as
	 * {@link #countActive(String)} counts them.
	 * @param queryLike a SQL {@code LIKE} pattern for the statement text
	 * @param count how many matching statements to wait for
	 * @param timeout how long to wait at most
	 * @return whether at least {@code count} matching statements were running before the
	 * timeout
	 */
	public boolean awaitActive(String queryLike, int count, Duration timeout) {
		return await(queryLike, (active) -> active >= count, timeout);
	}

	/**
	 * Stops the server at once, as a crash would, and starts it again on the same port with
	 * the same data. Every open connection breaks. For tests of what happens when the
	 * database goes away.
	 * @throws UnsupportedOperationException if the server is an external one
	 * ({@code reqctx.pg.url})
	 */
	public void restart() {
		if (this.cluster == null) {
			throw new UnsupportedOperationException("Cannot restart the external server at " + this.jdbcUrl);
		}
		synchronized (this.monitorLock) {
			closeMonitor();
			this.cluster.restart();
		}
	}

	private boolean await(String queryLike, IntPredicate done, Duration timeout) {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (true) {
			if (done.test(countActive(queryLike))) {
				return true;
			}
			if (System.nanoTime() - deadline >= 0) {
				return false;
			}
			try {
				Thread.sleep(5);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return false;
			}
		}
	}

	private static int countActive(Connection connection, String queryLike) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(COUNT_ACTIVE)) {
			statement.setString(1, queryLike);
			try (ResultSet result = statement.executeQuery()) {
				result.next();
				return result.getInt(1);
			}
		}
	}

	// Polling every few milliseconds must not open a session (a new backend process) each time.
	private Connection monitor() throws SQLException {
		if (this.monitor == null) {
			this.monitor = connect();
			// Autocommit gives each count its own transaction, so each one reads a fresh
			// pg_stat_activity: within a transaction PostgreSQL keeps showing the first snapshot.
			this.monitor.setAutoCommit(true);
		}
		return this.monitor;
	}

	private void closeMonitor() {
		if (this.monitor != null) {
			try {
				this.monitor.close();
			}
			catch (SQLException ex) {
				// It is being thrown away; a broken connection is why, sometimes.
			}
			this.monitor = null;
		}
	}

	private static String setting(String property, String environmentVariable, String defaultValue) {
		String value = System.getProperty(property);
		if (value == null || value.isEmpty()) {
			value = System.getenv(environmentVariable);
		}
		return (value != null && !value.isEmpty()) ? value : defaultValue;
	}

	/**
	 * A throwaway cluster in a temporary directory, and the server process that runs it.
	 */
	static final class LocalCluster {

		private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

		private static final int LOG_TAIL_LINES = 40;

		private static final String HELP = "Run scripts/install-postgres.sh to install PostgreSQL (as root it installs"
				+ " the Debian package), set REQCTX_PG_BIN to a directory with initdb and postgres, or set"
				+ " -Dreqctx.pg.url / REQCTX_PG_URL to use a server that is already running.";

		/**
		 * Runs the server ({@code $2...}) as a child, and when its standard input closes stops
		 * the server and deletes the cluster's directory ({@code $1}). The operating system
		 * closes that input when the JVM exits, however it exits, so even a JVM that is killed
		 * (no shutdown hook runs) leaves neither a server nor 40 MB of data behind. The script
		 * also ends soon after the server stops by other means, so a failed start or
		 * {@code pg_ctl stop} is seen at once, and nothing is deleted then.
		 */
		private static final String WATCHDOG = """
				base=$1
				shift
				"$@" &
				pid=$!
				while kill -0 "$pid" 2>/dev/null; do
					read -r -t 0.2 _
					status=$?
					# Above 128 is the timeout: poll again. 1 is end of input: the JVM is done.
					if [ "$status" -gt 0 ] && [ "$status" -le 128 ]; then
						kill -QUIT "$pid" 2>/dev/null
						wait "$pid"
						rm -rf "$base"
						exit
					fi
				done
				wait "$pid"
				""";

		private final Path binDir;

		private final boolean asPostgresUser;

		private final Path baseDir;

		private final Path dataDir;

		private final Path socketDir;

		private final Path logFile;

		private int port;

		private String version;

		private Process process;

		private long logStart;

		private boolean destroyed;

		private LocalCluster(Path binDir, boolean asPostgresUser, Path baseDir) {
			this.binDir = binDir;
			this.asPostgresUser = asPostgresUser;
			this.baseDir = baseDir;
			this.dataDir = baseDir.resolve("data");
			this.socketDir = baseDir.resolve("socket");
			this.logFile = this.dataDir.resolve("server.log");
		}

		static LocalCluster create() {
			Path binDir = findBinDir();
			boolean root = "0".equals(run(new ProcessBuilder("id", "-u")).trim());
			Path baseDir = null;
			try {
				baseDir = Files.createTempDirectory("reqctx-pg-");
				Files.createDirectory(baseDir.resolve("socket"));
				if (root) {
					UserPrincipal postgres = baseDir.getFileSystem()
						.getUserPrincipalLookupService()
						.lookupPrincipalByName("postgres");
					Files.setOwner(baseDir, postgres);
					Files.setOwner(baseDir.resolve("socket"), postgres);
				}
				return new LocalCluster(binDir, root, baseDir);
			}
			catch (IOException ex) {
				if (baseDir != null) {
					deleteRecursively(baseDir);
				}
				throw new IllegalStateException("Cannot prepare a directory for PostgreSQL" + (root
						? " owned by the postgres OS user (PostgreSQL refuses to run as root)" : "") + ": " + ex + ". "
						+ HELP, ex);
			}
		}

		String jdbcUrl() {
			return "jdbc:postgresql://127.0.0.1:" + this.port + "/postgres";
		}

		synchronized void start() {
			initdb();
			// Another process may take the free port between our check and the server's bind;
			// a new port is the cure.
			for (int attempt = 1;; attempt++) {
				this.port = freePort();
				try {
					launch();
					return;
				}
				catch (PortTakenException ex) {
					if (attempt == 3) {
						throw failure("PostgreSQL found no free port in 3 tries", this.logFile, ex);
					}
				}
			}
		}

		synchronized void restart() {
			stopServer(false);
			launch();
		}

		synchronized void destroy() {
			if (this.destroyed) {
				return;
			}
			this.destroyed = true;
			stopServer(true);
			deleteRecursively(this.baseDir);
		}

		private void initdb() {
			Path initdbLog = this.baseDir.resolve("initdb.log");
			List<String> command = List.of(this.binDir.resolve("initdb").toString(), "-D", this.dataDir.toString(),
					"--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync");
			try {
				Process initdb = processBuilder(command).redirectErrorStream(true)
					.redirectOutput(initdbLog.toFile())
					.start();
				if (!initdb.waitFor(2, TimeUnit.MINUTES)) {
					initdb.destroyForcibly();
					throw failure("initdb did not finish within 2 minutes", initdbLog, null);
				}
				if (initdb.exitValue() != 0) {
					throw failure("initdb failed with exit code " + initdb.exitValue(), initdbLog, null);
				}
			}
			catch (IOException ex) {
				throw failure("Cannot run " + command.get(0) + ": " + ex, initdbLog, ex);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw failure("Interrupted while waiting for initdb", initdbLog, ex);
			}
		}

		private void launch() {
			List<String> command = new ArrayList<>(List.of("bash", "-c", WATCHDOG, "reqctx-postgres",
					this.baseDir.toString(), this.binDir.resolve("postgres").toString(), "-D", this.dataDir.toString(), "-p",
					Integer.toString(this.port), "-k", this.socketDir.toString()));
			for (String setting : List.of("listen_addresses=127.0.0.1", "fsync=off", "synchronous_commit=off",
					"full_page_writes=off", "max_connections=300")) {
				command.add("-c");
				command.add(setting);
			}
			try {
				this.logStart = Files.exists(this.logFile) ? Files.size(this.logFile) : 0;
				this.process = processBuilder(command).redirectErrorStream(true)
					.redirectOutput(ProcessBuilder.Redirect.appendTo(this.logFile.toFile()))
					.start();
			}
			catch (IOException ex) {
				throw failure("Cannot run " + this.binDir.resolve("postgres") + ": " + ex, this.logFile, ex);
			}
			awaitReady();
		}

		private void awaitReady() {
			Properties properties = new Properties();
			properties.setProperty("user", "postgres");
			properties.setProperty("loginTimeout", "2");
			long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
			SQLException lastFailure = null;
			while (System.nanoTime() - deadline < 0) {
				if (!this.process.isAlive()) {
					if (logSinceLaunch().contains("Address already in use")) {
						throw new PortTakenException("PostgreSQL could not bind port " + this.port);
					}
					throw failure("PostgreSQL exited with code " + this.process.exitValue() + " while starting",
							this.logFile, null);
				}
				try (Connection connection = DriverManager.getConnection(jdbcUrl(), properties);
						Statement statement = connection.createStatement();
						ResultSet result = statement.executeQuery("show server_version")) {
					result.next();
					this.version = result.getString(1);
					return;
				}
				catch (SQLException ex) {
					// Refused until the server listens, then "starting up" until it has recovered.
					lastFailure = ex;
				}
				try {
					Thread.sleep(20);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					throw failure("Interrupted while waiting for PostgreSQL to start", this.logFile, ex);
				}
			}
			throw failure("PostgreSQL did not accept connections on " + jdbcUrl() + " within "
					+ READY_TIMEOUT.toSeconds() + " s (last error: " + lastFailure + ")", this.logFile, lastFailure);
		}

		private void stopServer(boolean forGood) {
			if (this.process == null) {
				return;
			}
			if (this.process.isAlive()) {
				// Immediate: the data is thrown away (or recovered on restart), so a clean
				// shutdown would only wait for sessions and a checkpoint.
				run(processBuilder(List.of(this.binDir.resolve("pg_ctl").toString(), "stop", "-m", "immediate", "-w",
						"-D", this.dataDir.toString())));
			}
			try {
				if (forGood) {
					// The watchdog's cue to delete the cluster, and to stop the server should
					// pg_ctl have failed. Not for a restart: the data must stay.
					this.process.getOutputStream().close();
				}
				if (!this.process.waitFor(10, TimeUnit.SECONDS)) {
					this.process.destroyForcibly();
				}
			}
			catch (IOException ex) {
				this.process.destroyForcibly();
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				this.process.destroyForcibly();
			}
			finally {
				// After a restart's stop the watchdog is gone; this only frees the pipe.
				try {
					this.process.getOutputStream().close();
				}
				catch (IOException ex) {
					// Nothing listens on it any more.
				}
			}
			this.process = null;
		}

		private ProcessBuilder processBuilder(List<String> command) {
			// The postgres user cannot enter the JVM's working directory (a root-owned
			// checkout, say), and initdb needs a working directory it can read.
			List<String> asServerUser = new ArrayList<>();
			if (this.asPostgresUser) {
				asServerUser.addAll(List.of("runuser", "-u", "postgres", "--"));
			}
			asServerUser.addAll(command);
			return new ProcessBuilder(asServerUser).directory(this.baseDir.toFile());
		}

		private IllegalStateException failure(String what, Path log, Throwable cause) {
			return new IllegalStateException(what + "\n----- last lines of " + log + " -----\n" + tail(log)
					+ "----- end of " + log + " -----\n" + HELP, cause);
		}

		private static Path findBinDir() {
			String override = System.getenv("REQCTX_PG_BIN");
			if (override != null && !override.isEmpty()) {
				Path binDir = Path.of(override);
				if (!Files.isExecutable(binDir.resolve("initdb"))) {
					throw new IllegalStateException(
							"REQCTX_PG_BIN=" + override + " has no executable initdb. " + HELP);
				}
				return binDir;
			}
			Path root = Path.of("/usr/lib/postgresql");
			try (Stream<Path> versions = Files.list(root)) {
				return versions.map((version) -> version.resolve("bin"))
					.filter((binDir) -> Files.isExecutable(binDir.resolve("initdb")))
					.max(Comparator.comparing((Path binDir) -> binDir.getParent().getFileName().toString(),
							LocalCluster::compareVersions))
					.orElseThrow(() -> new IllegalStateException(
							"No PostgreSQL server found: no " + root + "/*/bin/initdb. " + HELP));
			}
			catch (NoSuchFileException ex) {
				throw new IllegalStateException("No PostgreSQL server found: no " + root + ". " + HELP, ex);
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		}

		// Numerically, so that 9.6 < 15 < 16.
		static int compareVersions(String left, String right) {
			int[] l = versionNumbers(left);
			int[] r = versionNumbers(right);
			int compared = Arrays.compare(l, r);
			return (compared != 0) ? compared : left.compareTo(right);
		}

		private static int[] versionNumbers(String version) {
			return Arrays.stream(version.split("\\."))
				.mapToInt((part) -> part.matches("\\d{1,9}") ? Integer.parseInt(part) : -1)
				.toArray();
		}

		private static int freePort() {
			try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
				return socket.getLocalPort();
			}
			catch (IOException ex) {
				throw new UncheckedIOException("Cannot find a free port for PostgreSQL", ex);
			}
		}

		private String logSinceLaunch() {
			try {
				byte[] log = Files.readAllBytes(this.logFile);
				int from = (int) Math.min(this.logStart, log.length);
				return new String(log, from, log.length - from, StandardCharsets.UTF_8);
			}
			catch (IOException ex) {
				return "";
			}
		}

		private static String tail(Path log) {
			try {
				List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
				StringBuilder tail = new StringBuilder();
				for (String line : lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size())) {
					tail.append(line).append('\n');
				}
				return tail.toString();
			}
			catch (IOException ex) {
				return "(no log: " + ex + ")\n";
			}
		}

		// Output of a short command, or empty when it fails: callers check the outcome themselves.
		private static String run(ProcessBuilder command) {
			try {
				Process process = command.redirectErrorStream(true).start();
				process.getOutputStream().close();
				String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
				process.waitFor(30, TimeUnit.SECONDS);
				return output;
			}
			catch (IOException ex) {
				return "";
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return "";
			}
		}

		private static void deleteRecursively(Path dir) {
			try (Stream<Path> paths = Files.walk(dir)) {
				paths.sorted(Comparator.reverseOrder()).forEach((path) -> {
					try {
						Files.deleteIfExists(path);
					}
					catch (IOException ex) {
						// Left in the temporary directory; nothing depends on it being gone.
					}
				});
			}
			catch (IOException ex) {
				// As above.
			}
		}

	}

	private static final class PortTakenException extends RuntimeException {

		PortTakenException(String message) {
			super(message);
		}

	}

}
