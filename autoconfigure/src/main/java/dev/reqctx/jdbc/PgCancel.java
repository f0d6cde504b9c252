package dev.reqctx.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

import org.postgresql.core.BaseConnection;

/**
 * Sends PostgreSQL cancel requests for a connection. Only loaded when PgJDBC is on the
 * classpath.
 *
 * <p>{@code PgStatement.cancel()} is not used: it cancels only while the statement's own state
 * says it is in a query and flips that state to idle after one try, so a cancel lost on the
 * network is never repeated; and it holds the connection lock while its cancel request waits
 * out {@code cancelSignalTimeout}, which makes the executing thread wait for it too, even after
 * its connection was aborted. The query executor's cancel request depends on neither: it opens
 * a connection of its own with the backend's key and takes no lock, so it can be repeated and
 * a hung one delays only the thread that sent it. reqctx's own bookkeeping
 * ({@link ContextStatement}) makes sure it is only sent while the execution it targets runs.
 */
final class PgCancel {

	private PgCancel() {
	}

	/**
	 * Returns the PgJDBC connection under the given one, or {@code null} if it is not PgJDBC.
	 * @param connection the connection as the pool handed it out
	 * @return the driver's connection, or {@code null}
	 */
	static Object unwrap(Connection connection) throws SQLException {
		if (connection instanceof BaseConnection) {
			return connection;
		}
		return connection.isWrapperFor(BaseConnection.class) ? connection.unwrap(BaseConnection.class) : null;
	}

	/** Sends one cancel request for whatever the connection's backend runs now. */
	static void send(Object pgConnection) throws SQLException {
		((BaseConnection) pgConnection).getQueryExecutor().sendQueryCancel();
	}

}
