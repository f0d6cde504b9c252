package dev.reqctx.jdbc;

import java.lang.reflect.Field;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import org.h2.api.ErrorCode;
import org.h2.command.Command;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.message.DbException;

/**
 * An H2 function that sleeps and notices cancellation, for tests: H2's own functions that
 * sleep never check whether their statement was cancelled.
 */
public final class H2Sleep {

	/** H2 keeps the flag that Statement.cancel() sets private; this is test code. */
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

	/** Creates the {@code SLEEP_MS(ms)} function in the database of the given connection. */
	static void install(Connection connection) throws SQLException {
		try (Statement statement = connection.createStatement()) {
			statement.execute("CREATE ALIAS IF NOT EXISTS SLEEP_MS FOR '" + H2Sleep.class.getName() + ".sleepMs'");
		}
	}

	/**
	 * Sleeps, checking for cancellation every couple of milliseconds.
	 * @param connection passed by H2
	 * @param millis how long to sleep
	 * @return {@code millis}
	 * @throws Exception if cancelled or interrupted
	 */
	public static int sleepMs(Connection connection, int millis) throws Exception {
		SessionLocal session = (SessionLocal) ((JdbcConnection) connection).getSession();
		Command command = session.getCurrentCommand();
		long end = System.nanoTime() + millis * 1_000_000L;
		while (System.nanoTime() - end < 0) {
			// The session notices query timeouts; Statement.cancel() only flags the command.
			session.checkCanceled();
			if (command != null && COMMAND_CANCELLED.getBoolean(command)) {
				throw DbException.get(ErrorCode.STATEMENT_WAS_CANCELED);
			}
			Thread.sleep(2);
		}
		return millis;
	}

}
