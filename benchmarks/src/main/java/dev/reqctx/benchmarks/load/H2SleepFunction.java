package dev.reqctx.benchmarks.load;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.locks.LockSupport;

import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.message.DbException;

/**
 * An H2 function that sleeps and stops when its statement is cancelled or times out. H2 never
 * interrupts a running Java function, so it looks at its session's cancel flag every 100 µs:
 * fine enough that the function's own polling does not hide the latency being measured.
 */
public final class H2SleepFunction {

	private H2SleepFunction() {
	}

	/**
	 * Sleeps on the database.
	 * @param connection the calling session (passed by H2)
	 * @param millis how long to sleep
	 * @return 1
	 * @throws SQLException when the statement is cancelled or times out
	 */
	public static int sleepMs(Connection connection, int millis) throws SQLException {
		SessionLocal session = (SessionLocal) ((JdbcConnection) connection).getSession();
		long end = System.nanoTime() + millis * 1_000_000L;
		try {
			while (System.nanoTime() - end < 0) {
				session.checkCanceled();
				LockSupport.parkNanos(100_000);
			}
		}
		catch (DbException ex) {
			throw ex.getSQLException();
		}
		return 1;
	}

}
