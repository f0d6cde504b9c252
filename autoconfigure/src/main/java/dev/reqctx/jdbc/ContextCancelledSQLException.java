package dev.reqctx.jdbc;

import java.sql.SQLException;

import dev.reqctx.ContextCancelledException;

/**
 * An {@link SQLException} that reports that JDBC work stopped, or never started, because its
 * request context was cancelled. Its cause is the context's {@link ContextCancelledException}
 * (a {@link dev.reqctx.DeadlineExceededException} when the deadline passed), which in turn holds
 * the driver's own failure, if there was one.
 *
 * <p>The SQL state is {@code 57014} ("query canceled"), which Spring's exception translation
 * turns into a {@code QueryTimeoutException}: the cause chain is kept, so
 * {@link ContextCancelledException#findIn(Throwable)} finds the context's exception behind any
 * {@code DataAccessException}.
 */
public class ContextCancelledSQLException extends SQLException {

	private static final long serialVersionUID = 1L;

	/** SQL state of a statement cancelled on request (the same as PostgreSQL and H2 use). */
	public static final String SQL_STATE = "57014";

	/**
	 * Creates a new exception.
	 * @param cancelled the context's cancellation, with the driver's failure (if any) as cause
	 */
	public ContextCancelledSQLException(ContextCancelledException cancelled) {
		super(cancelled.getMessage(), SQL_STATE, cancelled);
	}

	/**
	 * Returns the context's cancellation.
	 * @return the exception that says which context was cancelled and why
	 */
	public ContextCancelledException getContextCancelledException() {
		return (ContextCancelledException) getCause();
	}

}
