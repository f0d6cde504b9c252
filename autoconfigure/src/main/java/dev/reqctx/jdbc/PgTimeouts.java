package dev.reqctx.jdbc;

import java.sql.SQLException;
import java.sql.Statement;

import org.postgresql.jdbc.PgStatement;

/**
 * Millisecond query timeouts on PgJDBC statements, which {@link Statement#setQueryTimeout(int)}
 * can only set in whole seconds. Only loaded when PgJDBC is on the classpath.
 */
final class PgTimeouts {

	private PgTimeouts() {
	}

	/** Returns the driver's own statement behind the given one, or {@code null} if not PgJDBC. */
	static Statement unwrap(Statement statement) throws SQLException {
		if (statement instanceof PgStatement) {
			return statement;
		}
		return statement.isWrapperFor(PgStatement.class) ? statement.unwrap(PgStatement.class) : null;
	}

	static long getQueryTimeoutMs(Statement pgStatement) throws SQLException {
		return ((PgStatement) pgStatement).getQueryTimeoutMs();
	}

	static void setQueryTimeoutMs(Statement pgStatement, long millis) throws SQLException {
		((PgStatement) pgStatement).setQueryTimeoutMs(millis);
	}

}
