package dev.reqctx.jdbc;

import java.io.PrintWriter;
import java.lang.System.Logger.Level;
import java.lang.System.Logger;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import javax.sql.DataSource;

import dev.reqctx.ContextCancelledException;
import dev.reqctx.RequestContext;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.Operation;
import dev.reqctx.spi.UnboundOperations;

/**
 * A {@link DataSource} that runs JDBC work under the calling thread's {@link RequestContext}.
 *
 * <p>For work under a cancellable context (a request, a task):
 * <ul>
 * <li>borrowing a connection fails at once, without touching the pool, if the context is
 * cancelled or its deadline has passed; otherwise the wait for a pooled connection is cut short
 * when the context is cancelled (the waiting thread is interrupted, which HikariCP and the other
 * common pools answer by giving up the wait), so it never outlasts the budget;
 * <li>each statement execution fails at once if the context is cancelled; otherwise its query
 * timeout is lowered to the remaining budget (to the millisecond on PostgreSQL, rounded up to
 * whole seconds elsewhere; a shorter timeout already set, for example by
 * {@code @Transactional(timeout)}, wins), it shows in the live tree with its SQL text
 * (truncated, never bind values), and {@link java.sql.Statement#cancel()} is called from another
 * thread the moment the context is cancelled;
 * <li>a cancel that does not stop the statement is repeated, and if the statement still runs
 * after {@link Settings#abortAfter()} its physical connection is aborted and evicted from the
 * pool, so a lost cancel never holds a pool slot;
 * <li>a failure caused by the cancellation is reported as a {@link ContextCancelledSQLException}
 * whose cause is the context's {@link ContextCancelledException}.
 * </ul>
 * Work outside any cancellable context passes straight through.
 *
 * <p>{@link #unwrap(Class)} and {@link #isWrapperFor(Class)} reach the target, so pool metrics
 * and health checks keep working on the wrapped data source.
 */
public final class ContextDataSource implements DataSource {

	static final Logger LOGGER = System.getLogger(ContextDataSource.class.getName());

	static final String OPERATION = "jdbc";

	static final boolean PGJDBC_PRESENT = isPresent("org.postgresql.jdbc.PgStatement");

	private static final boolean HIKARI_PRESENT = isPresent("com.zaxxer.hikari.HikariDataSource");

	private final DataSource target;

	private final Settings settings;

	final long cancelRetryNanos;

	final long abortAfterNanos;

	private final Supplier<ContextObserver> observerSupplier;

	private volatile ContextObserver observer;

	private final Supplier<UnboundOperations> unboundSupplier;

	private volatile UnboundOperations unbound;

	/** Null object when the pool is unknown: an aborted connection is then found broken by the pool. */
	final PoolEvictor evictor;

	private final AtomicBoolean cancelUnsupportedReported = new AtomicBoolean();

	private final AtomicBoolean timeoutUnsupportedReported = new AtomicBoolean();

	private final AtomicBoolean abortUnsupportedReported = new AtomicBoolean();

	/** Set once the driver refused {@code Statement.cancel()}: retrying would only log more. */
	volatile boolean cancelUnsupported;

	/**
	 * Creates a data source with the {@linkplain Settings#DEFAULTS default settings} and no
	 * observer.
	 * @param target the data source to wrap
	 */
	public ContextDataSource(DataSource target) {
		this(target, Settings.DEFAULTS, () -> ContextObserver.NONE);
	}

	/**
	 * Creates a data source.
	 * @param target the data source to wrap
	 * @param settings how to show and cancel statements
	 * @param observer supplies the observer that receives operation events; called once, the
	 * first time a statement runs under a cancellable context, so that it can be resolved late
	 */
	public ContextDataSource(DataSource target, Settings settings, Supplier<ContextObserver> observer) {
		this(target, settings, observer, () -> UnboundOperations.NONE);
	}

	/**
	 * Creates a data source that also reports statements run with no context while requests are
	 * in flight.
	 * @param target the data source to wrap
	 * @param settings how to show and cancel statements
	 * @param observer supplies the observer that receives operation events, resolved late
	 * @param unbound supplies the broken-chain detector, resolved at the first statement that
	 * runs without a context
	 */
	public ContextDataSource(DataSource target, Settings settings, Supplier<ContextObserver> observer,
			Supplier<UnboundOperations> unbound) {
		this.unboundSupplier = Objects.requireNonNull(unbound, "unbound must not be null");
		this.target = Objects.requireNonNull(target, "target must not be null");
		this.settings = Objects.requireNonNull(settings, "settings must not be null");
		this.observerSupplier = Objects.requireNonNull(observer, "observer must not be null");
		this.cancelRetryNanos = settings.cancelRetryInterval().toNanos();
		this.abortAfterNanos = settings.abortAfter().toNanos();
		this.evictor = evictorFor(target);
	}

	private static PoolEvictor evictorFor(DataSource target) {
		if (HIKARI_PRESENT) {
			PoolEvictor hikari = HikariEvictor.forDataSource(target);
			if (hikari != null) {
				return hikari;
			}
		}
		return PoolEvictor.NONE;
	}

	/**
	 * Returns the wrapped data source.
	 * @return the target
	 */
	public DataSource getTarget() {
		return this.target;
	}

	/**
	 * Returns the settings of this data source.
	 * @return the settings
	 */
	public Settings getSettings() {
		return this.settings;
	}

	@Override
	public Connection getConnection() throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			return new ContextConnection(this, this.target.getConnection());
		}
		return borrow(ctx, null, null);
	}

	@Override
	public Connection getConnection(String username, String password) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			return new ContextConnection(this, this.target.getConnection(username, password));
		}
		return borrow(ctx, username, password);
	}

	private Connection borrow(RequestContext ctx, String username, String password) throws SQLException {
		if (ctx.isCancelled() || ctx.remainingNanos() <= 0) {
			throw cancelled(ctx, null);
		}
		PoolWaitCancel wait = new PoolWaitCancel(this.cancelRetryNanos);
		Operation op = Contexts.startOperation(ctx, OPERATION, "waiting for a connection", wait);
		Connection connection = null;
		SQLException failure = null;
		try {
			if (!op.wasCancelled()) {
				connection = (username != null || password != null) ? this.target.getConnection(username, password)
						: this.target.getConnection();
			}
		}
		catch (SQLException ex) {
			failure = ex;
		}
		finally {
			op.remove();
			wait.finish();
		}
		if (op.wasCancelled()) {
			if (connection != null) {
				closeQuietly(connection);
			}
			observer().operationCancelled(OPERATION, ctx.cause(), System.nanoTime() - op.cancelSignalNanos());
			throw cancelled(ctx, failure);
		}
		if (failure != null) {
			throw translate(ctx, failure);
		}
		return new ContextConnection(this, connection);
	}

	private static void closeQuietly(Connection connection) {
		try {
			connection.close();
		}
		catch (SQLException | RuntimeException ex) {
			LOGGER.log(Level.DEBUG, "Could not return a connection borrowed for a cancelled context", ex);
		}
	}

	/**
	 * Returns the failure to report for JDBC work that failed under the given context: the
	 * context's cancellation if it is cancelled (or its deadline has passed), else the failure.
	 */
	static SQLException translate(RequestContext ctx, SQLException failure) {
		ContextCancelledException cancelled = Contexts.cancellationException(ctx, failure);
		return (cancelled != null) ? new ContextCancelledSQLException(cancelled) : failure;
	}

	/** Returns the failure for work refused because the context is cancelled or out of time. */
	static SQLException cancelled(RequestContext ctx, SQLException failure) {
		ContextCancelledException cancelled = Contexts.cancellationException(ctx, failure);
		if (cancelled == null) {
			// Only reachable if the deadline moved, which deadlines never do; be explicit anyway.
			return new SQLException("Request context " + ctx.id() + " has no time left", ContextCancelledSQLException.SQL_STATE);
		}
		return new ContextCancelledSQLException(cancelled);
	}

	UnboundOperations unbound() {
		UnboundOperations u = this.unbound;
		if (u == null) {
			u = this.unboundSupplier.get();
			if (u == null) {
				u = UnboundOperations.NONE;
			}
			this.unbound = u;
		}
		return u;
	}

	ContextObserver observer() {
		ContextObserver o = this.observer;
		if (o == null) {
			o = this.observerSupplier.get();
			if (o == null) {
				o = ContextObserver.NONE;
			}
			this.observer = o;
		}
		return o;
	}

	/** Returns the SQL text to show for a statement: truncated, and never bind values. */
	String describe(String sql) {
		if (sql == null) {
			return "statement";
		}
		int max = this.settings.maxSqlLength();
		return (sql.length() <= max) ? sql : sql.substring(0, max) + "...";
	}

	void cancelUnsupported(SQLException ex) {
		this.cancelUnsupported = true;
		if (this.cancelUnsupportedReported.compareAndSet(false, true)) {
			LOGGER.log(Level.WARNING, "The JDBC driver of " + this.target + " does not support Statement.cancel(): "
					+ "statements of cancelled contexts run on until they end or their connection is aborted", ex);
		}
	}

	void timeoutUnsupported(Exception ex) {
		if (this.timeoutUnsupportedReported.compareAndSet(false, true)) {
			LOGGER.log(Level.WARNING, "The JDBC driver of " + this.target + " does not support query timeouts: "
					+ "statements are stopped by cancel only", ex);
		}
	}

	void abortUnsupported(Exception ex) {
		if (this.abortUnsupportedReported.compareAndSet(false, true)) {
			LOGGER.log(Level.WARNING, "The JDBC driver of " + this.target + " does not support Connection.abort(): "
					+ "a statement that ignores cancel keeps its connection until it ends", ex);
		}
	}

	@Override
	public PrintWriter getLogWriter() throws SQLException {
		return this.target.getLogWriter();
	}

	@Override
	public void setLogWriter(PrintWriter out) throws SQLException {
		this.target.setLogWriter(out);
	}

	@Override
	public void setLoginTimeout(int seconds) throws SQLException {
		this.target.setLoginTimeout(seconds);
	}

	@Override
	public int getLoginTimeout() throws SQLException {
		return this.target.getLoginTimeout();
	}

	@Override
	public java.util.logging.Logger getParentLogger() throws SQLFeatureNotSupportedException {
		return this.target.getParentLogger();
	}

	@Override
	public <T> T unwrap(Class<T> iface) throws SQLException {
		if (iface.isInstance(this)) {
			return iface.cast(this);
		}
		if (iface.isInstance(this.target)) {
			return iface.cast(this.target);
		}
		return this.target.unwrap(iface);
	}

	@Override
	public boolean isWrapperFor(Class<?> iface) throws SQLException {
		return iface.isInstance(this) || iface.isInstance(this.target) || this.target.isWrapperFor(iface);
	}

	@Override
	public String toString() {
		return "ContextDataSource[" + this.target + "]";
	}

	private static boolean isPresent(String className) {
		try {
			Class.forName(className, false, ContextDataSource.class.getClassLoader());
			return true;
		}
		catch (ClassNotFoundException | LinkageError ex) {
			return false;
		}
	}

	/**
	 * How a {@link ContextDataSource} shows and cancels statements.
	 * @param maxSqlLength longest SQL text shown for a running statement; longer text is cut
	 * @param cancelRetryInterval how often a cancel that has not stopped its statement is repeated
	 * @param abortAfter how long a cancelled statement may run on before its connection is
	 * aborted and evicted from the pool
	 */
	public record Settings(int maxSqlLength, Duration cancelRetryInterval, Duration abortAfter) {

		/** 200 characters of SQL, a cancel repeated every 100 ms, abort after 1 s. */
		public static final Settings DEFAULTS = new Settings(200, Duration.ofMillis(100), Duration.ofSeconds(1));

		/**
		 * Checks the settings.
		 * @param maxSqlLength longest SQL text shown for a running statement
		 * @param cancelRetryInterval how often a cancel is repeated
		 * @param abortAfter when a connection whose statement ignores cancel is aborted
		 */
		public Settings {
			if (maxSqlLength < 0) {
				throw new IllegalArgumentException("maxSqlLength must not be negative");
			}
			Objects.requireNonNull(cancelRetryInterval, "cancelRetryInterval must not be null");
			Objects.requireNonNull(abortAfter, "abortAfter must not be null");
			if (cancelRetryInterval.isNegative() || cancelRetryInterval.isZero()) {
				throw new IllegalArgumentException("cancelRetryInterval must be positive");
			}
			if (abortAfter.isNegative()) {
				throw new IllegalArgumentException("abortAfter must not be negative");
			}
		}

	}

}
