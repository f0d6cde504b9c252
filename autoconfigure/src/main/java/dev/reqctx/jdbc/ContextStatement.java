package dev.reqctx.jdbc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import dev.reqctx.CancellationCause;
import dev.reqctx.RequestContext;
import dev.reqctx.spi.CancelExecutor;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.Operation;

/**
 * A {@link Statement} that runs each execution under the calling thread's context; the base of
 * the prepared and callable variants.
 *
 * <p>Per execution under a cancellable context: fail fast if cancelled, lower the query
 * timeout to the remaining budget (except on PostgreSQL, see below), open an {@link Operation}
 * whose cancel action (this object, so that an execution allocates nothing else) hands a
 * {@link StatementCanceller} to {@link CancelExecutor#shared()}, and close the operation when
 * the driver returns.
 *
 * <p>On PgJDBC no driver timeout is set: PgJDBC runs query timeouts on one timer thread for the
 * whole JVM, whose cancel holds the connection lock while it waits for the server, so under a
 * black-holed database the executing thread (and every other connection's timeout) would wait
 * for it. The context's own deadline already fires the cancel, which goes through
 * {@link PgCancel}.
 *
 * <p>A cancel must never hit the next statement on the same connection. The executing thread
 * and the cancellers therefore agree through two volatile fields, in the style of Dekker's
 * algorithm: the executor clears {@link #running} and then waits while {@link #cancelling}
 * counts attempts in flight; a cancel attempt increments {@code cancelling} and then calls the
 * driver only if {@code running} still names its execution. One of the two always sees the
 * other. The executor waits for attempts in flight at most one retry interval: an attempt still
 * hanging then (its request may yet reach the server) gets the connection aborted, so that it
 * can never hit another statement.
 */
class ContextStatement implements Statement, Consumer<CancellationCause> {

	private static final int TIMEOUT_UNKNOWN = 0;

	/** PgJDBC: no driver timeout, the context's deadline cancels (see the class comment). */
	private static final int TIMEOUT_BY_CANCEL = 1;

	private static final int TIMEOUT_SECONDS = 2;

	private static final int TIMEOUT_UNSUPPORTED = 3;

	private static final VarHandle CANCELLING;

	static {
		try {
			CANCELLING = MethodHandles.lookup().findVarHandle(ContextStatement.class, "cancelling", int.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	final ContextConnection connection;

	final Statement target;

	/** The SQL text to show, for prepared and callable statements; {@code null} otherwise. */
	private final String description;

	/** Counts executions, so a late canceller recognises that its execution is over. */
	private long executions;

	/** The id of the execution in progress, {@code 0} when idle. */
	volatile long running;

	/**
	 * How many attempts to cancel in flight at once, at most: a cancel request that hangs (a
	 * black-holed server) must not stop the next one, nor pile up threads.
	 */
	static final int MAX_CANCEL_ATTEMPTS = 4;

	/** How many cancel attempts may be calling the driver now. */
	private volatile int cancelling;

	/** The canceller waiting for the running execution to return, to wake it early. */
	volatile Thread canceller;

	private int timeoutMode = TIMEOUT_UNKNOWN;

	/** The timeout the application set, in milliseconds ({@code 0}: none, {@code -1}: unknown). */
	private long applicationTimeoutMs = -1;

	/** Whether the driver's statement holds a timeout lowered to a budget. */
	private boolean timeoutLowered;

	/** The lowered timeout, in the driver's unit (milliseconds or seconds). */
	private long loweredTimeout;

	/** The first SQL of the pending batch of a plain statement, for the live tree. */
	private String batchSql;

	ContextStatement(ContextConnection connection, Statement target, String description) {
		this.connection = connection;
		this.target = target;
		this.description = description;
	}

	// Executions

	@Override
	public ResultSet executeQuery(String sql) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.executeQuery(sql);
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.executeQuery(sql);
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public int executeUpdate(String sql) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.executeUpdate(sql);
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.executeUpdate(sql);
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public int executeUpdate(String sql, int autoGeneratedKeys) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.executeUpdate(sql, autoGeneratedKeys);
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.executeUpdate(sql, autoGeneratedKeys);
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public int executeUpdate(String sql, int[] columnIndexes) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.executeUpdate(sql, columnIndexes);
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.executeUpdate(sql, columnIndexes);
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public int executeUpdate(String sql, String[] columnNames) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.executeUpdate(sql, columnNames);
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.executeUpdate(sql, columnNames);
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public long executeLargeUpdate(String sql) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.executeLargeUpdate(sql);
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.executeLargeUpdate(sql);
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public long executeLargeUpdate(String sql, int autoGeneratedKeys) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.executeLargeUpdate(sql, autoGeneratedKeys);
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.executeLargeUpdate(sql, autoGeneratedKeys);
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public long executeLargeUpdate(String sql, int[] columnIndexes) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.executeLargeUpdate(sql, columnIndexes);
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.executeLargeUpdate(sql, columnIndexes);
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public long executeLargeUpdate(String sql, String[] columnNames) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.executeLargeUpdate(sql, columnNames);
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.executeLargeUpdate(sql, columnNames);
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public boolean execute(String sql) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.execute(sql);
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.execute(sql);
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public boolean execute(String sql, int autoGeneratedKeys) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.execute(sql, autoGeneratedKeys);
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.execute(sql, autoGeneratedKeys);
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public boolean execute(String sql, int[] columnIndexes) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.execute(sql, columnIndexes);
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.execute(sql, columnIndexes);
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public boolean execute(String sql, String[] columnNames) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.execute(sql, columnNames);
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.execute(sql, columnNames);
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public int[] executeBatch() throws SQLException {
		RequestContext ctx = RequestContext.current();
		String sql = takeBatchSql();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.executeBatch();
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.executeBatch();
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public long[] executeLargeBatch() throws SQLException {
		RequestContext ctx = RequestContext.current();
		String sql = takeBatchSql();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.target.executeLargeBatch();
		}
		Operation op = begin(ctx, sql);
		try {
			return this.target.executeLargeBatch();
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public void addBatch(String sql) throws SQLException {
		this.target.addBatch(sql);
		if (this.batchSql == null) {
			this.batchSql = sql;
		}
	}

	@Override
	public void clearBatch() throws SQLException {
		this.target.clearBatch();
		this.batchSql = null;
	}

	private String takeBatchSql() {
		String sql = this.batchSql;
		this.batchSql = null;
		return sql;
	}

	/**
	 * Starts an execution under the given cancellable context.
	 * @param sql the SQL of a plain statement; ignored when this statement has a description
	 * @return the operation to pass to {@link #end(RequestContext, Operation)}
	 * @throws SQLException if the context is cancelled or its deadline has passed
	 */
	final Operation begin(RequestContext ctx, String sql) throws SQLException {
		long remaining = ctx.remainingNanos();
		if (remaining <= 0 || ctx.isCancelled()) {
			throw ContextDataSource.cancelled(ctx, null);
		}
		ContextDataSource dataSource = this.connection.dataSource;
		if (remaining != Long.MAX_VALUE) {
			lowerTimeout(remaining);
			dataSource.observer().operationStarted(ContextDataSource.OPERATION, remaining);
		}
		this.running = ++this.executions;
		String shown = (this.description != null) ? this.description : dataSource.describe(sql);
		Operation op = Contexts.startOperation(ctx, ContextDataSource.OPERATION, shown, this);
		if (op.wasCancelled()) {
			// Cancelled between the check above and now: the driver has not been called.
			end(ctx, op);
			throw ContextDataSource.cancelled(ctx, null);
		}
		return op;
	}

	/** Ends an execution: leaves the tree, and settles with a canceller if one ran. */
	final void end(RequestContext ctx, Operation op) {
		boolean cancelled = !op.remove();
		this.running = 0;
		if (cancelled) {
			awaitCancelAttempt();
			Thread waiting = this.canceller;
			if (waiting != null) {
				LockSupport.unpark(waiting);
			}
			CancellationCause cause = ctx.cause();
			if (cause != null) {
				this.connection.dataSource.observer().operationCancelled(ContextDataSource.OPERATION, cause,
						System.nanoTime() - op.cancelSignalNanos());
			}
		}
	}

	/** The operation's cancel action; runs on the cancelling thread, so it only hands off. */
	@Override
	public final void accept(CancellationCause cause) {
		long execution = this.running;
		if (execution != 0) {
			StatementCanceller canceller = new StatementCanceller(this, execution);
			try {
				CancelExecutor.shared().execute(canceller);
			}
			catch (RuntimeException ex) {
				canceller.run();
			}
		}
	}

	/**
	 * Makes one attempt to cancel the given execution; called on a cancellation thread. Returns
	 * at once if an attempt is already in flight.
	 */
	final void tryCancel(long execution) {
		int inFlight;
		do {
			inFlight = this.cancelling;
			if (inFlight >= MAX_CANCEL_ATTEMPTS) {
				return;
			}
		}
		while (!CANCELLING.compareAndSet(this, inFlight, inFlight + 1));
		try {
			if (this.running == execution && !this.connection.dataSource.cancelUnsupported) {
				Object pg = this.connection.pgConnection();
				if (pg != null) {
					PgCancel.send(pg);
				}
				else {
					this.target.cancel();
				}
			}
		}
		catch (SQLFeatureNotSupportedException | UnsupportedOperationException ex) {
			this.connection.dataSource.cancelUnsupported(asSqlException(ex));
		}
		catch (SQLException | RuntimeException ex) {
			ContextDataSource.LOGGER.log(System.Logger.Level.DEBUG, "Statement.cancel() failed", ex);
		}
		finally {
			CANCELLING.getAndAdd(this, -1);
		}
	}

	final int cancelAttemptsInFlight() {
		return this.cancelling;
	}

	private void awaitCancelAttempt() {
		// A cancel call takes a few milliseconds (PostgreSQL opens a connection for it); once the
		// connection is aborted there is nothing left for a stray cancel to hit.
		int spins = 0;
		long giveUpAt = 0;
		while (this.cancelling != 0 && !this.connection.aborted) {
			if (++spins < 100) {
				Thread.onSpinWait();
				continue;
			}
			long now = System.nanoTime();
			if (giveUpAt == 0) {
				giveUpAt = now + this.connection.dataSource.cancelRetryNanos;
			}
			else if (now - giveUpAt >= 0) {
				// A cancel request that hangs may still reach the server later, when this
				// connection runs something else: the connection goes instead.
				this.connection.abort("a cancel request was still in flight when its statement returned");
				return;
			}
			LockSupport.parkNanos(this, 100_000);
		}
	}

	private static SQLException asSqlException(Exception ex) {
		return (ex instanceof SQLException sql) ? sql : new SQLFeatureNotSupportedException(ex.getMessage(), ex);
	}

	// Query timeouts

	/*
	 * The lowered timeout stays on the driver's statement after an execution and is put back
	 * only when the statement runs again with a budget that no longer needs it, or (for drivers
	 * with whole-second timeouts, which may keep it on the connection) when it is closed: most
	 * statements run once and are closed, and some drivers (H2) run a command for every
	 * setQueryTimeout.
	 */

	private void lowerTimeout(long remainingNanos) throws SQLException {
		int mode = this.timeoutMode;
		if (mode == TIMEOUT_UNKNOWN) {
			mode = resolveTimeoutMode();
		}
		if (mode == TIMEOUT_UNSUPPORTED || mode == TIMEOUT_BY_CANCEL) {
			return;
		}
		// Whole milliseconds rounded up, plus one: a driver timer that fires a hair before the
		// deadline would otherwise be reported as the driver's timeout instead of the deadline.
		long budgetMs = remainingNanos / 1_000_000 + 2;
		long applicationMs = this.applicationTimeoutMs;
		try {
			// Never 0, which means no timeout at all; the cancel stops the statement on time.
			long seconds = (budgetMs + 999) / 1000;
			if (applicationMs > 0 && applicationMs <= seconds * 1000) {
				restoreTimeoutIfLowered();
				return;
			}
			if (!this.timeoutLowered || this.loweredTimeout != seconds) {
				this.target.setQueryTimeout((int) Math.min(Integer.MAX_VALUE, seconds));
				this.loweredTimeout = seconds;
			}
			this.timeoutLowered = true;
		}
		catch (SQLFeatureNotSupportedException | UnsupportedOperationException ex) {
			this.timeoutMode = TIMEOUT_UNSUPPORTED;
			this.connection.dataSource.timeoutUnsupported(ex);
		}
	}

	private int resolveTimeoutMode() throws SQLException {
		int mode;
		try {
			if (this.connection.pgConnection() != null) {
				mode = TIMEOUT_BY_CANCEL;
			}
			else {
				if (this.applicationTimeoutMs < 0) {
					this.applicationTimeoutMs = this.target.getQueryTimeout() * 1000L;
				}
				mode = TIMEOUT_SECONDS;
			}
		}
		catch (SQLFeatureNotSupportedException | UnsupportedOperationException ex) {
			this.connection.dataSource.timeoutUnsupported(ex);
			mode = TIMEOUT_UNSUPPORTED;
		}
		this.timeoutMode = mode;
		return mode;
	}

	final void restoreTimeoutIfLowered() {
		if (this.timeoutLowered) {
			restoreTimeout();
		}
	}

	private void restoreTimeout() {
		this.timeoutLowered = false;
		long applicationMs = Math.max(0, this.applicationTimeoutMs);
		try {
			this.target.setQueryTimeout((int) (applicationMs / 1000));
		}
		catch (SQLException | RuntimeException ex) {
			// Closed or broken (an aborted connection): it will not run again.
		}
	}

	@Override
	public void setQueryTimeout(int seconds) throws SQLException {
		this.target.setQueryTimeout(seconds);
		this.applicationTimeoutMs = seconds * 1000L;
		this.timeoutLowered = false;
	}

	@Override
	public int getQueryTimeout() throws SQLException {
		// The application's own timeout, not one lowered for a budget.
		return (this.timeoutLowered) ? (int) (this.applicationTimeoutMs / 1000) : this.target.getQueryTimeout();
	}

	@Override
	public Connection getConnection() {
		return this.connection;
	}

	@Override
	public <T> T unwrap(Class<T> iface) throws SQLException {
		return iface.isInstance(this.target) ? iface.cast(this.target) : this.target.unwrap(iface);
	}

	@Override
	public boolean isWrapperFor(Class<?> iface) throws SQLException {
		return iface.isInstance(this.target) || this.target.isWrapperFor(iface);
	}

	@Override
	public String toString() {
		return "ContextStatement[" + this.target + "]";
	}

	// Plain delegation

	@Override
	public void close() throws SQLException {
		if (this.timeoutLowered && this.timeoutMode == TIMEOUT_SECONDS) {
			// Some drivers keep the query timeout on the connection, not the statement (H2's
			// setQueryTimeout sets the session's): put the application's back before the
			// connection goes back to the pool, or the next borrower inherits our budget.
			restoreTimeout();
		}
		this.target.close();
	}

	@Override
	public int getMaxFieldSize() throws SQLException {
		return this.target.getMaxFieldSize();
	}

	@Override
	public void setMaxFieldSize(int max) throws SQLException {
		this.target.setMaxFieldSize(max);
	}

	@Override
	public int getMaxRows() throws SQLException {
		return this.target.getMaxRows();
	}

	@Override
	public void setMaxRows(int max) throws SQLException {
		this.target.setMaxRows(max);
	}

	@Override
	public void setEscapeProcessing(boolean enable) throws SQLException {
		this.target.setEscapeProcessing(enable);
	}


	@Override
	public void cancel() throws SQLException {
		this.target.cancel();
	}

	@Override
	public SQLWarning getWarnings() throws SQLException {
		return this.target.getWarnings();
	}

	@Override
	public void clearWarnings() throws SQLException {
		this.target.clearWarnings();
	}

	@Override
	public void setCursorName(String name) throws SQLException {
		this.target.setCursorName(name);
	}

	@Override
	public ResultSet getResultSet() throws SQLException {
		return this.target.getResultSet();
	}

	@Override
	public int getUpdateCount() throws SQLException {
		return this.target.getUpdateCount();
	}

	@Override
	public boolean getMoreResults() throws SQLException {
		return this.target.getMoreResults();
	}

	@Override
	public void setFetchDirection(int direction) throws SQLException {
		this.target.setFetchDirection(direction);
	}

	@Override
	public int getFetchDirection() throws SQLException {
		return this.target.getFetchDirection();
	}

	@Override
	public void setFetchSize(int rows) throws SQLException {
		this.target.setFetchSize(rows);
	}

	@Override
	public int getFetchSize() throws SQLException {
		return this.target.getFetchSize();
	}

	@Override
	public int getResultSetConcurrency() throws SQLException {
		return this.target.getResultSetConcurrency();
	}

	@Override
	public int getResultSetType() throws SQLException {
		return this.target.getResultSetType();
	}

	@Override
	public boolean getMoreResults(int current) throws SQLException {
		return this.target.getMoreResults(current);
	}

	@Override
	public ResultSet getGeneratedKeys() throws SQLException {
		return this.target.getGeneratedKeys();
	}

	@Override
	public int getResultSetHoldability() throws SQLException {
		return this.target.getResultSetHoldability();
	}

	@Override
	public boolean isClosed() throws SQLException {
		return this.target.isClosed();
	}

	@Override
	public void setPoolable(boolean poolable) throws SQLException {
		this.target.setPoolable(poolable);
	}

	@Override
	public boolean isPoolable() throws SQLException {
		return this.target.isPoolable();
	}

	@Override
	public void closeOnCompletion() throws SQLException {
		this.target.closeOnCompletion();
	}

	@Override
	public boolean isCloseOnCompletion() throws SQLException {
		return this.target.isCloseOnCompletion();
	}

	@Override
	public long getLargeUpdateCount() throws SQLException {
		return this.target.getLargeUpdateCount();
	}

	@Override
	public void setLargeMaxRows(long max) throws SQLException {
		this.target.setLargeMaxRows(max);
	}

	@Override
	public long getLargeMaxRows() throws SQLException {
		return this.target.getLargeMaxRows();
	}

	@Override
	public String enquoteLiteral(String val) throws SQLException {
		return this.target.enquoteLiteral(val);
	}

	@Override
	public String enquoteIdentifier(String identifier, boolean alwaysQuote) throws SQLException {
		return this.target.enquoteIdentifier(identifier, alwaysQuote);
	}

	@Override
	public boolean isSimpleIdentifier(String identifier) throws SQLException {
		return this.target.isSimpleIdentifier(identifier);
	}

	@Override
	public String enquoteNCharLiteral(String val) throws SQLException {
		return this.target.enquoteNCharLiteral(val);
	}

}
