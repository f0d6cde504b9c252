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
 * {@link CancelHandshake#MAX_CANCEL_ATTEMPTS} may hang at once.
 */
final class StatementCanceller implements Runnable {

	private final CancelHandshake handshake;

	private final long execution;

	StatementCanceller(CancelHandshake handshake, long execution) {
		this.handshake = handshake;
		this.execution = execution;
	}

	@Override
	public void run() {
		CancelHandshake handshake = this.handshake;
		ContextDataSource dataSource = handshake.connection.dataSource;
		Thread self = Thread.currentThread();
		handshake.canceller = self;
		long abortAt = System.nanoTime() + dataSource.abortAfterNanos;
		try {
			while (handshake.running == this.execution) {
				if (handshake.cancelAttemptsInFlight() < CancelHandshake.MAX_CANCEL_ATTEMPTS
						&& !dataSource.cancelUnsupported) {
					attempt();
				}
				long left = abortAt - System.nanoTime();
				if (left <= 0) {
					handshake.connection.abortAfterLostCancel(this.execution, handshake);
					return;
				}
				// Woken early by the execution returning.
				LockSupport.parkNanos(this, Math.min(left, dataSource.cancelRetryNanos));
			}
		}
		finally {
			if (handshake.canceller == self) {
				handshake.canceller = null;
			}
		}
	}

	private void attempt() {
		Runnable attempt = () -> this.handshake.tryCancel(this.execution);
		try {
			CancelExecutor.shared().execute(attempt);
		}
		catch (RuntimeException ex) {
			attempt.run();
		}
	}

}
