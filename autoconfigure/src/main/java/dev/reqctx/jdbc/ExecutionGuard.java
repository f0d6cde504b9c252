package dev.reqctx.jdbc;

import java.sql.SQLException;
import java.sql.Statement;

import dev.reqctx.CancellationCause;
import dev.reqctx.RequestContext;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.Operation;

/**
 * The one path every execution of a statement takes, whatever its JDBC method: under a
 * cancellable context it fails fast if the context is cancelled, lowers the
 * {@link QueryTimeout} to the remaining budget, opens an {@link Operation} in the live tree
 * whose cancel action is the statement's {@link CancelHandshake}, translates a failure into the
 * context's exception, and closes the operation, reporting the cancel latency if it was
 * cancelled. Outside one the driver is called directly.
 */
final class ExecutionGuard {

	private final ContextConnection connection;

	/** The SQL text to show, for prepared and callable statements; {@code null} otherwise. */
	private final String description;

	final QueryTimeout timeout;

	private final CancelHandshake cancel;

	ExecutionGuard(ContextConnection connection, Statement target, String description) {
		this.connection = connection;
		this.description = description;
		this.timeout = new QueryTimeout(connection, target);
		this.cancel = new CancelHandshake(connection, target);
	}

	/**
	 * Runs one execution of the driver's statement.
	 * @param statement the driver's statement
	 * @param sql the SQL of a plain statement; ignored when this statement has a description
	 * @param execution the JDBC call, a non-capturing lambda where it can be, so that it is
	 * allocated once; measured as fast as writing each execution out
	 * ({@code JdbcHotPathBenchmarks})
	 * @return what the driver returned
	 * @throws SQLException the driver's failure, or the context's if it is cancelled
	 */
	<S extends Statement, R> R execute(S statement, String sql, Execution<S, R> execution) throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			this.timeout.restoreIfLowered();
			this.connection.dataSource.unbound().check(ContextDataSource.OPERATION);
			return execution.run(statement, sql);
		}
		Operation op = open(ctx, sql);
		try {
			return execution.run(statement, sql);
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			close(ctx, op);
		}
	}

	private Operation open(RequestContext ctx, String sql) throws SQLException {
		long remaining = ctx.remainingNanos();
		if (remaining <= 0 || ctx.isCancelled()) {
			throw ContextDataSource.cancelled(ctx, null);
		}
		ContextDataSource dataSource = this.connection.dataSource;
		if (remaining != Long.MAX_VALUE) {
			this.timeout.lower(remaining);
			dataSource.observer().operationStarted(ContextDataSource.OPERATION, remaining);
		}
		this.cancel.executionStarted();
		String shown = (this.description != null) ? this.description : dataSource.describe(sql);
		Operation op = Contexts.startOperation(ctx, ContextDataSource.OPERATION, shown, this.cancel);
		if (op.wasCancelled()) {
			// Cancelled between the check above and now: the driver has not been called.
			close(ctx, op);
			throw ContextDataSource.cancelled(ctx, null);
		}
		return op;
	}

	/** Leaves the tree, and settles with a canceller if one ran. */
	private void close(RequestContext ctx, Operation op) {
		boolean cancelled = !op.remove();
		this.cancel.executionEnded(cancelled);
		if (cancelled) {
			CancellationCause cause = ctx.cause();
			if (cause != null) {
				this.connection.dataSource.observer().operationCancelled(ContextDataSource.OPERATION, cause,
						System.nanoTime() - op.cancelSignalNanos());
			}
		}
	}

	/**
	 * One JDBC execution method, called on the driver's statement.
	 * @param <S> the type of the driver's statement
	 * @param <R> what the method returns
	 */
	@FunctionalInterface
	interface Execution<S extends Statement, R> {

		R run(S statement, String sql) throws SQLException;

	}

}
