package dev.reqctx.testsupport;

import java.lang.reflect.Field;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.LockSupport;

import org.h2.api.ErrorCode;
import org.h2.command.Command;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.message.DbException;

/**
 * An H2 function {@code SLEEP_MS(ms)} that sleeps and stops when its statement is cancelled or
 * times out, for tests and benchmarks. H2 never interrupts a running Java function, and its own
 * checks are split: the session notices a query timeout, while {@code Statement.cancel()} only
 * sets a private flag on the running command. So this looks at both every 100 µs: fine enough
 * that the function's own polling does not hide the latency being measured.
 */
public final class H2Sleep {

	/** The flag {@code Statement.cancel()} sets; H2 has no public way to read it. */
	private static final Field COMMAND_CANCELLED;

	static {
		try {
			COMMAND_CANCELLED = Command.class.getDeclaredField("cancel");
			COMMAND_CANCELLED.setAccessible(true);
		}
		catch (NoSuchFieldException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private H2Sleep() {
	}

	/**
	 * Creates the {@code SLEEP_MS(ms)} function in the database of the given connection.
	 * @param connection a connection to the database
	 * @throws SQLException if the function cannot be created
	 */
	public static void install(Connection connection) throws SQLException {
		try (Statement statement = connection.createStatement()) {
			statement.execute("CREATE ALIAS IF NOT EXISTS SLEEP_MS FOR '" + H2Sleep.class.getName() + ".sleepMs'");
		}
	}

	/**
	 * Sleeps on the database.
	 * @param connection the calling session (passed by H2)
	 * @param millis how long to sleep
	 * @return {@code millis}
	 * @throws SQLException when the statement is cancelled or times out
	 */
	public static int sleepMs(Connection connection, int millis) throws SQLException {
		SessionLocal session = (SessionLocal) ((JdbcConnection) connection).getSession();
		Command command = session.getCurrentCommand();
		long end = System.nanoTime() + millis * 1_000_000L;
		try {
			while (System.nanoTime() - end < 0) {
				session.checkCanceled();
				if (command != null && COMMAND_CANCELLED.getBoolean(command)) {
					throw DbException.get(ErrorCode.STATEMENT_WAS_CANCELED);
				}
				LockSupport.parkNanos(100_000);
			}
		}
		catch (DbException ex) {
			throw ex.getSQLException();
		}
		catch (IllegalAccessException ex) {
			throw new IllegalStateException(ex);
		}
		return millis;
	}

}
