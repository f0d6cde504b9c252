package dev.reqctx.sample;

import java.sql.Connection;
import java.sql.SQLException;

import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;

/**
 * Java functions behind the H2 aliases in {@code schema-h2.sql}.
 */
public final class H2Functions {

	private H2Functions() {
	}

	/**
	 * Sleeps on the database, like PostgreSQL's {@code pg_sleep}, but notices
	 * {@code Statement.cancel()} and query timeouts: H2 does not interrupt a running function, so
	 * it checks its session's cancel flag between short naps.
	 * @param connection the calling session's connection (passed by H2)
	 * @param seconds how long to sleep
	 * @return 1
	 * @throws SQLException when cancelled or timed out
	 */
	public static int sleep(Connection connection, double seconds) throws SQLException {
		SessionLocal session = (SessionLocal) ((JdbcConnection) connection).getSession();
		long end = System.nanoTime() + (long) (seconds * 1_000_000_000L);
		try {
			while (System.nanoTime() - end < 0) {
				session.checkCanceled();
				Thread.sleep(1);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new SQLException("Interrupted while sleeping", "57014", ex);
		}
		catch (org.h2.message.DbException ex) {
			throw ex.getSQLException();
		}
		return 1;
	}

}
