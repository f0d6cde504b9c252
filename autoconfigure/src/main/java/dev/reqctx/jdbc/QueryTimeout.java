package dev.reqctx.jdbc;

import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;

/**
 * A statement's query timeout, lowered to the remaining budget for executions under a deadline
 * and put back to the application's own afterwards.
 *
 * <p>On PgJDBC no driver timeout is set: PgJDBC runs query timeouts on one timer thread for the
 * whole JVM, whose cancel holds the connection lock while it waits for the server, so under a
 * black-holed database the executing thread (and every other connection's timeout) would wait
 * for it. The context's own deadline already fires the cancel, which goes through
 * {@link PgCancel}.
 *
 * <p>The lowered timeout stays on the driver's statement after an execution and is put back
 * only when the statement runs again with a budget that no longer needs it, or (for drivers
 * with whole-second timeouts, which may keep it on the connection) when it is closed: most
 * statements run once and are closed, and some drivers (H2) run a command for every
 * {@code setQueryTimeout}. Used by the executing thread only.
 */
final class QueryTimeout {

	private static final int UNKNOWN = 0;

	/** PgJDBC: no driver timeout, the context's deadline cancels (see the class comment). */
	private static final int BY_CANCEL = 1;

	private static final int SECONDS = 2;

	private static final int UNSUPPORTED = 3;

	private final ContextConnection connection;

	private final Statement target;

	private int mode = UNKNOWN;

	/** The timeout the application set, in milliseconds ({@code 0}: none, {@code -1}: unknown). */
	private long applicationMs = -1;

	/** Whether the driver's statement holds a timeout lowered to a budget. */
	private boolean lowered;

	/** The lowered timeout, in seconds. */
	private long loweredSeconds;

	QueryTimeout(ContextConnection connection, Statement target) {
		this.connection = connection;
		this.target = target;
	}

	/** Lowers the driver's timeout to the given budget, unless the application's is shorter. */
	void lower(long remainingNanos) throws SQLException {
		int mode = this.mode;
		if (mode == UNKNOWN) {
			mode = resolveMode();
		}
		if (mode == UNSUPPORTED || mode == BY_CANCEL) {
			return;
		}
		// Whole milliseconds rounded up, plus one: a driver timer that fires a hair before the
		// deadline would otherwise be reported as the driver's timeout instead of the deadline.
		long budgetMs = remainingNanos / 1_000_000 + 2;
		long applicationMs = this.applicationMs;
		try {
			// Never 0, which means no timeout at all; the cancel stops the statement on time.
			long seconds = (budgetMs + 999) / 1000;
			if (applicationMs > 0 && applicationMs <= seconds * 1000) {
				restoreIfLowered();
				return;
			}
			if (!this.lowered || this.loweredSeconds != seconds) {
				this.target.setQueryTimeout((int) Math.min(Integer.MAX_VALUE, seconds));
				this.loweredSeconds = seconds;
			}
			this.lowered = true;
		}
		catch (SQLFeatureNotSupportedException | UnsupportedOperationException ex) {
			this.mode = UNSUPPORTED;
			this.connection.dataSource.timeoutUnsupported(ex);
		}
	}

	private int resolveMode() throws SQLException {
		int mode;
		try {
			if (this.connection.pgConnection() != null) {
				mode = BY_CANCEL;
			}
			else {
				if (this.applicationMs < 0) {
					this.applicationMs = this.target.getQueryTimeout() * 1000L;
				}
				mode = SECONDS;
			}
		}
		catch (SQLFeatureNotSupportedException | UnsupportedOperationException ex) {
			this.connection.dataSource.timeoutUnsupported(ex);
			mode = UNSUPPORTED;
		}
		this.mode = mode;
		return mode;
	}

	/** Puts the application's timeout back if a budget lowered it. */
	void restoreIfLowered() {
		if (this.lowered) {
			restore();
		}
	}

	/**
	 * Puts the application's timeout back before the statement closes where the driver may keep
	 * it on the connection: H2's {@code setQueryTimeout} sets the session's, so the next borrower
	 * of the pooled connection would inherit the budget.
	 */
	void beforeClose() {
		if (this.lowered && this.mode == SECONDS) {
			restore();
		}
	}

	private void restore() {
		this.lowered = false;
		long applicationMs = Math.max(0, this.applicationMs);
		try {
			this.target.setQueryTimeout((int) (applicationMs / 1000));
		}
		catch (SQLException | RuntimeException ex) {
			// Closed or broken (an aborted connection): it will not run again.
		}
	}

	/** Sets the application's own timeout, as {@link Statement#setQueryTimeout(int)}. */
	void set(int seconds) throws SQLException {
		this.target.setQueryTimeout(seconds);
		this.applicationMs = seconds * 1000L;
		this.lowered = false;
	}

	/** Returns the application's own timeout, never one lowered for a budget. */
	int get() throws SQLException {
		return (this.lowered) ? (int) (this.applicationMs / 1000) : this.target.getQueryTimeout();
	}

}
