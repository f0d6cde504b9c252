package dev.reqctx.jdbc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import dev.reqctx.CancellationCause;
import dev.reqctx.spi.CancelExecutor;

/**
 * The agreement between a statement's executing thread and the threads that cancel it, which
 * makes sure a cancel never hits the next statement on the same connection; also the cancel
 * action of each execution's operation (one object per statement, so that an execution
 * allocates nothing else), which hands a {@link StatementCanceller} to
 * {@link CancelExecutor#shared()}.
 *
 * <p>The two sides agree through two volatile fields, in the style of Dekker's algorithm: the
 * executor clears {@link #running} and then waits while {@link #cancelling} counts attempts in
 * flight; a cancel attempt increments {@code cancelling} and then calls the driver only if
 * {@code running} still names its execution. One of the two always sees the other. The executor
 * waits for attempts in flight at most one retry interval: an attempt still hanging then (its
 * request may yet reach the server) gets the connection aborted, so that it can never hit
 * another statement.
 */
final class CancelHandshake implements Consumer<CancellationCause> {

	/**
	 * How many attempts to cancel in flight at once, at most: a cancel request that hangs (a
	 * black-holed server) must not stop the next one, nor pile up threads.
	 */
	static final int MAX_CANCEL_ATTEMPTS = 4;

	private static final VarHandle CANCELLING;

	static {
		try {
			CANCELLING = MethodHandles.lookup().findVarHandle(CancelHandshake.class, "cancelling", int.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	final ContextConnection connection;

	private final Statement target;

	/** Counts executions, so a late canceller recognises that its execution is over. */
	private long executions;

	/** The id of the execution in progress, {@code 0} when idle. */
	volatile long running;

	/** How many cancel attempts may be calling the driver now. */
	private volatile int cancelling;

	/** The canceller waiting for the running execution to return, to wake it early. */
	volatile Thread canceller;

	CancelHandshake(ContextConnection connection, Statement target) {
		this.connection = connection;
		this.target = target;
	}

	/** Marks a new execution as running, before its operation can be cancelled. */
	void executionStarted() {
		this.running = ++this.executions;
	}

	/**
	 * Marks the execution over; if it was cancelled, waits for the cancel attempts in flight and
	 * wakes the canceller that waits for it to return.
	 */
	void executionEnded(boolean cancelled) {
		this.running = 0;
		if (cancelled) {
			awaitCancelAttempts();
			Thread waiting = this.canceller;
			if (waiting != null) {
				LockSupport.unpark(waiting);
			}
		}
	}

	/** The operation's cancel action; runs on the cancelling thread, so it only hands off. */
	@Override
	public void accept(CancellationCause cause) {
		long execution = this.running;
		if (execution != 0) {
			StatementCanceller canceller = new StatementCanceller(this, execution);
			try {
				CancelExecutor.shared().execute(canceller);
			}
			catch (RuntimeException ex) {
				canceller.run();
			}
		}
	}

	/**
	 * Makes one attempt to cancel the given execution; called on a cancellation thread. Returns
	 * at once if an attempt is already in flight.
	 */
	void tryCancel(long execution) {
		int inFlight;
		do {
			inFlight = this.cancelling;
			if (inFlight >= MAX_CANCEL_ATTEMPTS) {
				return;
			}
		}
		while (!CANCELLING.compareAndSet(this, inFlight, inFlight + 1));
		try {
			if (this.running == execution && !this.connection.dataSource.cancelUnsupported) {
				Object pg = this.connection.pgConnection();
				if (pg != null) {
					PgCancel.send(pg);
				}
				else {
					this.target.cancel();
				}
			}
		}
		catch (SQLFeatureNotSupportedException | UnsupportedOperationException ex) {
			this.connection.dataSource.cancelUnsupported(asSqlException(ex));
		}
		catch (SQLException | RuntimeException ex) {
			ContextDataSource.LOGGER.log(System.Logger.Level.DEBUG, "Statement.cancel() failed", ex);
		}
		finally {
			CANCELLING.getAndAdd(this, -1);
		}
	}

	int cancelAttemptsInFlight() {
		return this.cancelling;
	}

	private void awaitCancelAttempts() {
		// A cancel call takes a few milliseconds (PostgreSQL opens a connection for it); once the
		// connection is aborted there is nothing left for a stray cancel to hit.
		int spins = 0;
		long giveUpAt = 0;
		while (this.cancelling != 0 && !this.connection.aborted) {
			if (++spins < 100) {
				Thread.onSpinWait();
				continue;
			}
			long now = System.nanoTime();
			if (giveUpAt == 0) {
				giveUpAt = now + this.connection.dataSource.cancelRetryNanos;
			}
			else if (now - giveUpAt >= 0) {
				// A cancel request that hangs may still reach the server later, when this
				// connection runs something else: the connection goes instead.
				this.connection.abort("a cancel request was still in flight when its statement returned");
				return;
			}
			LockSupport.parkNanos(this, 100_000);
		}
	}

	private static SQLException asSqlException(Exception ex) {
		return (ex instanceof SQLException sql) ? sql : new SQLFeatureNotSupportedException(ex.getMessage(), ex);
	}

}
