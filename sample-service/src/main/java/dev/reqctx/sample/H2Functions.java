package dev.reqctx.sample;

import java.lang.reflect.Field;
import java.sql.Connection;
import java.sql.SQLException;

import org.h2.api.ErrorCode;
import org.h2.command.Command;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.message.DbException;

/**
 * Java functions behind the H2 aliases in {@code schema-h2.sql}.
 */
public final class H2Functions {

	/**
	 * The flag that {@code Statement.cancel()} sets on the running command. H2 keeps it private
	 * and its session only checks query timeouts, so without it a cancel would go unnoticed
	 * until the (whole-second) query timeout.
	 */
	private static final Field COMMAND_CANCEL;

	static {
		try {
			COMMAND_CANCEL = Command.class.getDeclaredField("cancel");
			COMMAND_CANCEL.setAccessible(true);
		}
		catch (NoSuchFieldException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private H2Functions() {
	}

	/**
	 * Sleeps on the database, like PostgreSQL's {@code pg_sleep}, but notices
	 * {@code Statement.cancel()} and query timeouts: H2 does not interrupt a running function, so
	 * it checks between short naps.
	 * @param connection the calling session's connection (passed by H2)
	 * @param seconds how long to sleep
	 * @return 1
	 * @throws SQLException when cancelled or timed out
	 */
	public static int sleep(Connection connection, double seconds) throws SQLException {
		SessionLocal session = (SessionLocal) ((JdbcConnection) connection).getSession();
		Command command = session.getCurrentCommand();
		long end = System.nanoTime() + (long) (seconds * 1_000_000_000L);
		try {
			while (System.nanoTime() - end < 0) {
				session.checkCanceled();
				if (command != null && COMMAND_CANCEL.getBoolean(command)) {
					throw DbException.get(ErrorCode.STATEMENT_WAS_CANCELED);
				}
				Thread.sleep(1);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new SQLException("Interrupted while sleeping", "57014", ex);
		}
		catch (DbException ex) {
			throw ex.getSQLException();
		}
		catch (IllegalAccessException ex) {
			throw new IllegalStateException(ex);
		}
		return 1;
	}

}
