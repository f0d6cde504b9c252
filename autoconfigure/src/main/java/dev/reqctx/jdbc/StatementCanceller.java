package dev.reqctx.jdbc;

import java.util.concurrent.locks.LockSupport;

import dev.reqctx.spi.CancelExecutor;

/**
 * Stops one execution of a statement whose context was cancelled. Runs on
 * {@link CancelExecutor#shared()}.
 *
 * <p>Drivers, poolers and networks lose cancels (PgBouncer, a cancel that reaches the server
 * just before the query starts, a dropped connection), so the cancel is repeated every
 * {@link ContextDataSource.Settings#cancelRetryInterval()} while the execution runs. If it still
 * runs after {@link ContextDataSource.Settings#abortAfter()}, its physical connection is aborted
 * and evicted from the pool: that connection is lost, but it no longer holds a pool slot, and
 * the executing thread, whose socket is closed, returns.
 *
 * <p>Each attempt runs as a task of its own, so a cancel call that hangs (a server that stopped
 * answering) delays neither the retries nor the abort; up to
 * {@link ContextStatement#MAX_CANCEL_ATTEMPTS} may hang at once.
 */
final class StatementCanceller implements Runnable {

	private final ContextStatement statement;

	private final long execution;

	StatementCanceller(ContextStatement statement, long execution) {
		this.statement = statement;
		this.execution = execution;
	}

	@Override
	public void run() {
		ContextStatement statement = this.statement;
		ContextDataSource dataSource = statement.connection.dataSource;
		Thread self = Thread.currentThread();
		statement.canceller = self;
		long abortAt = System.nanoTime() + dataSource.abortAfterNanos;
		try {
			while (statement.running == this.execution) {
				if (statement.cancelAttemptsInFlight() < ContextStatement.MAX_CANCEL_ATTEMPTS
						&& !dataSource.cancelUnsupported) {
					attempt();
				}
				long left = abortAt - System.nanoTime();
				if (left <= 0) {
					statement.connection.abortAfterLostCancel(this.execution, statement);
					return;
				}
				// Woken early by the execution returning.
				LockSupport.parkNanos(this, Math.min(left, dataSource.cancelRetryNanos));
			}
		}
		finally {
			if (statement.canceller == self) {
				statement.canceller = null;
			}
		}
	}

	private void attempt() {
		Runnable attempt = () -> this.statement.tryCancel(this.execution);
		try {
			CancelExecutor.shared().execute(attempt);
		}
		catch (RuntimeException ex) {
			attempt.run();
		}
	}

}
