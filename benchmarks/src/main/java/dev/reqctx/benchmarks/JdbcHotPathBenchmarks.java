package dev.reqctx.benchmarks;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.Reader;
import java.lang.reflect.Proxy;
import java.sql.Array;
import java.sql.Blob;
import java.sql.Clob;
import java.sql.Connection;
import java.sql.Date;
import java.sql.NClob;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.Ref;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.RowId;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLType;
import java.sql.SQLWarning;
import java.sql.SQLXML;
import java.sql.Time;
import java.sql.Timestamp;
import java.sql.Wrapper;
import java.time.Duration;
import java.util.Calendar;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import javax.sql.DataSource;

import dev.reqctx.CancellableContext;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.jdbc.ContextDataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What {@link ContextDataSource} costs per statement execution on the hot path: a prepared
 * statement's {@code executeQuery()} and {@code executeUpdate()} under an attached context with
 * a deadline, through the wrapper ({@code wrapper=context}) or on the driver's statement itself
 * ({@code wrapper=none}, attached to the same context, so the difference is the wrapper alone).
 * {@code noop} is a driver whose statement does nothing, so the wrapper is all there is to
 * measure; {@code h2} is an in-memory H2 database ({@code SELECT 1}, a session variable set),
 * the cheapest real round trip. No pool: the connection is taken once.
 * {@code prepareExecuteClose} also prepares and closes the statement per query, as
 * {@code JdbcTemplate} does, so the wrapper's cost per statement shows too. Compare two builds
 * with {@code benchmarks/scripts/jmh-ab.sh}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@State(org.openjdk.jmh.annotations.Scope.Thread)
public class JdbcHotPathBenchmarks {

	/** An update that H2 runs in constant time: a row update costs 15 to 70 µs there, too noisy. */
	private static final String UPDATE = "SET @n = 1";

	@Param({ "noop", "h2" })
	public String driver;

	@Param({ "none", "context" })
	public String wrapper;

	private CancellableContext context;

	private Connection connection;

	private PreparedStatement query;

	private PreparedStatement update;

	@Setup(Level.Trial)
	public void setUp() throws SQLException {
		DataSource driver = "h2".equals(this.driver) ? h2() : new NoopDataSource();
		DataSource dataSource = "context".equals(this.wrapper) ? new ContextDataSource(driver) : driver;
		this.connection = dataSource.getConnection();
		this.query = this.connection.prepareStatement("SELECT 1");
		this.update = this.connection.prepareStatement(UPDATE);
		this.context = RequestContext.root().withTimeout(Duration.ofMinutes(10));
	}

	private static DataSource h2() {
		JdbcDataSource h2 = new JdbcDataSource();
		h2.setURL("jdbc:h2:mem:hotpath");
		return h2;
	}

	@TearDown(Level.Trial)
	public void tearDown() throws SQLException {
		this.context.close();
		this.connection.close();
	}

	@Benchmark
	public ResultSet executeQuery() throws SQLException {
		try (Scope scope = this.context.attach()) {
			return this.query.executeQuery();
		}
	}

	@Benchmark
	public int executeUpdate() throws SQLException {
		try (Scope scope = this.context.attach()) {
			return this.update.executeUpdate();
		}
	}

	/**
	 * A query, an update and an {@code execute()} in one: an application runs all kinds, so the
	 * JIT cannot assume that only one kind passes through the wrapper's shared code.
	 */
	@Benchmark
	public boolean executeMixed() throws SQLException {
		try (Scope scope = this.context.attach()) {
			return this.query.executeQuery() != null && this.update.executeUpdate() >= 0 && !this.query.execute();
		}
	}

	/** What {@code JdbcTemplate} does per query: a statement of its own, closed after the call. */
	@Benchmark
	public boolean prepareExecuteClose() throws SQLException {
		try (Scope scope = this.context.attach();
				PreparedStatement statement = this.connection.prepareStatement("SELECT 1")) {
			return statement.executeQuery() != null;
		}
	}

	/** The driver's objects wrap nothing. */
	abstract static class Unwrapped implements Wrapper {

		@Override
		public <T> T unwrap(Class<T> iface) throws SQLException {
			throw new SQLException("not a wrapper");
		}

		@Override
		public boolean isWrapperFor(Class<?> iface) {
			return false;
		}

	}

	/** A driver whose connections hand out {@link NoopStatement}s and do nothing else. */
	static final class NoopDataSource extends Unwrapped implements DataSource {

		@Override
		public Connection getConnection() {
			return (Connection) Proxy.newProxyInstance(NoopDataSource.class.getClassLoader(),
					new Class<?>[] { Connection.class }, (proxy, method, args) -> switch (method.getName()) {
						case "prepareStatement" -> new NoopStatement((Connection) proxy);
						case "isWrapperFor", "isClosed" -> false;
						case "unwrap" -> throw new SQLException("not a wrapper");
						case "hashCode" -> System.identityHashCode(proxy);
						case "equals" -> proxy == args[0];
						case "toString" -> "NoopConnection";
						default -> null;
					});
		}

		@Override
		public Connection getConnection(String username, String password) {
			return getConnection();
		}

		@Override
		public PrintWriter getLogWriter() {
			return null;
		}

		@Override
		public void setLogWriter(PrintWriter out) {
		}

		@Override
		public void setLoginTimeout(int seconds) {
		}

		@Override
		public int getLoginTimeout() {
			return 0;
		}

		@Override
		public Logger getParentLogger() throws SQLFeatureNotSupportedException {
			throw new SQLFeatureNotSupportedException();
		}

	}

	/**
	 * A prepared statement that does nothing but keep its query timeout, as a driver would, so
	 * the wrapper's timeout handling runs as it does on a real one. Hand-written (a proxy would
	 * cost more than the wrapper under test); the stubs are one line each, being of no interest.
	 */
	static final class NoopStatement extends Unwrapped implements PreparedStatement {

		private static final ResultSet RESULT = (ResultSet) Proxy.newProxyInstance(
				NoopStatement.class.getClassLoader(), new Class<?>[] { ResultSet.class }, (proxy, method, args) -> null);

		private final Connection connection;

		private int queryTimeout;

		NoopStatement(Connection connection) {
			this.connection = connection;
		}

		@Override
		public ResultSet executeQuery() {
			return RESULT;
		}

		@Override
		public int executeUpdate() {
			return 1;
		}

		@Override
		public int getQueryTimeout() {
			return this.queryTimeout;
		}

		@Override
		public void setQueryTimeout(int seconds) {
			this.queryTimeout = seconds;
		}

		@Override
		public Connection getConnection() {
			return this.connection;
		}

		@Override
		public boolean isClosed() {
			return false;
		}

		// @formatter:off
		@Override public void addBatch() {}
		@Override public void addBatch(String a0) {}
		@Override public void cancel() {}
		@Override public void clearBatch() {}
		@Override public void clearParameters() {}
		@Override public void clearWarnings() {}
		@Override public void close() {}
		@Override public void closeOnCompletion() {}
		@Override public boolean execute() { return false; }
		@Override public boolean execute(String a0, int[] a1) { return false; }
		@Override public boolean execute(String a0, String[] a1) { return false; }
		@Override public boolean execute(String a0, int a1) { return false; }
		@Override public boolean execute(String a0) { return false; }
		@Override public int[] executeBatch() { return null; }
		@Override public ResultSet executeQuery(String a0) { return null; }
		@Override public int executeUpdate(String a0, int[] a1) { return 0; }
		@Override public int executeUpdate(String a0, String[] a1) { return 0; }
		@Override public int executeUpdate(String a0, int a1) { return 0; }
		@Override public int executeUpdate(String a0) { return 0; }
		@Override public int getFetchDirection() { return 0; }
		@Override public int getFetchSize() { return 0; }
		@Override public ResultSet getGeneratedKeys() { return null; }
		@Override public int getMaxFieldSize() { return 0; }
		@Override public int getMaxRows() { return 0; }
		@Override public ResultSetMetaData getMetaData() { return null; }
		@Override public boolean getMoreResults() { return false; }
		@Override public boolean getMoreResults(int a0) { return false; }
		@Override public ParameterMetaData getParameterMetaData() { return null; }
		@Override public ResultSet getResultSet() { return null; }
		@Override public int getResultSetConcurrency() { return 0; }
		@Override public int getResultSetHoldability() { return 0; }
		@Override public int getResultSetType() { return 0; }
		@Override public int getUpdateCount() { return 0; }
		@Override public SQLWarning getWarnings() { return null; }
		@Override public boolean isCloseOnCompletion() { return false; }
		@Override public boolean isPoolable() { return false; }
		@Override public void setArray(int a0, Array a1) {}
		@Override public void setAsciiStream(int a0, InputStream a1, int a2) {}
		@Override public void setAsciiStream(int a0, InputStream a1, long a2) {}
		@Override public void setAsciiStream(int a0, InputStream a1) {}
		@Override public void setBigDecimal(int a0, java.math.BigDecimal a1) {}
		@Override public void setBinaryStream(int a0, InputStream a1, int a2) {}
		@Override public void setBinaryStream(int a0, InputStream a1, long a2) {}
		@Override public void setBinaryStream(int a0, InputStream a1) {}
		@Override public void setBlob(int a0, InputStream a1, long a2) {}
		@Override public void setBlob(int a0, InputStream a1) {}
		@Override public void setBlob(int a0, Blob a1) {}
		@Override public void setBoolean(int a0, boolean a1) {}
		@Override public void setByte(int a0, byte a1) {}
		@Override public void setBytes(int a0, byte[] a1) {}
		@Override public void setCharacterStream(int a0, Reader a1, int a2) {}
		@Override public void setCharacterStream(int a0, Reader a1, long a2) {}
		@Override public void setCharacterStream(int a0, Reader a1) {}
		@Override public void setClob(int a0, Reader a1, long a2) {}
		@Override public void setClob(int a0, Reader a1) {}
		@Override public void setClob(int a0, Clob a1) {}
		@Override public void setCursorName(String a0) {}
		@Override public void setDate(int a0, Date a1, Calendar a2) {}
		@Override public void setDate(int a0, Date a1) {}
		@Override public void setDouble(int a0, double a1) {}
		@Override public void setEscapeProcessing(boolean a0) {}
		@Override public void setFetchDirection(int a0) {}
		@Override public void setFetchSize(int a0) {}
		@Override public void setFloat(int a0, float a1) {}
		@Override public void setInt(int a0, int a1) {}
		@Override public void setLong(int a0, long a1) {}
		@Override public void setMaxFieldSize(int a0) {}
		@Override public void setMaxRows(int a0) {}
		@Override public void setNCharacterStream(int a0, Reader a1, long a2) {}
		@Override public void setNCharacterStream(int a0, Reader a1) {}
		@Override public void setNClob(int a0, Reader a1, long a2) {}
		@Override public void setNClob(int a0, Reader a1) {}
		@Override public void setNClob(int a0, NClob a1) {}
		@Override public void setNString(int a0, String a1) {}
		@Override public void setNull(int a0, int a1, String a2) {}
		@Override public void setNull(int a0, int a1) {}
		@Override public void setObject(int a0, Object a1, int a2, int a3) {}
		@Override public void setObject(int a0, Object a1, int a2) {}
		@Override public void setObject(int a0, Object a1) {}
		@Override public void setPoolable(boolean a0) {}
		@Override public void setRef(int a0, Ref a1) {}
		@Override public void setRowId(int a0, RowId a1) {}
		@Override public void setSQLXML(int a0, SQLXML a1) {}
		@Override public void setShort(int a0, short a1) {}
		@Override public void setString(int a0, String a1) {}
		@Override public void setTime(int a0, Time a1, Calendar a2) {}
		@Override public void setTime(int a0, Time a1) {}
		@Override public void setTimestamp(int a0, Timestamp a1, Calendar a2) {}
		@Override public void setTimestamp(int a0, Timestamp a1) {}
		@Override public void setURL(int a0, java.net.URL a1) {}
		@Deprecated
		@Override public void setUnicodeStream(int a0, InputStream a1, int a2) {}
		// @formatter:on

	}

}
