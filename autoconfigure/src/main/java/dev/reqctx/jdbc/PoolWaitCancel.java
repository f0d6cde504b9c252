package dev.reqctx.jdbc;

import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import dev.reqctx.CancellationCause;
import dev.reqctx.spi.CancelExecutor;
import dev.reqctx.spi.InterruptGuard;

/**
 * The cancel action of a thread waiting for a pooled connection: it interrupts the waiting
 * thread, which pools answer by giving up the wait.
 *
 * <p>An interrupt does not break a platform thread's blocking socket read, and pools read on the
 * borrowing thread when they validate an idle connection: against a host that stopped
 * answering, that read lasts the pool's validation timeout, once per idle connection. So after
 * the interrupt, and again every retry interval until the wait ends, the canceller closes any
 * {@link BreakableSocketFactory} socket the waiting thread is blocked reading; the validation
 * fails at once and the pool moves on (or gives up, interrupted).
 */
final class PoolWaitCancel extends InterruptGuard implements Consumer<CancellationCause> {

	private final long retryNanos;

	/** Set, under this object's lock, once the wait is over. */
	private boolean finished;

	PoolWaitCancel(long retryNanos) {
		this.retryNanos = retryNanos;
	}

	@Override
	public void accept(CancellationCause cause) {
		if (interruptCall() && BreakableSocketFactory.inUse()) {
			breakReads();
		}
	}

	private void breakReads() {
		Runnable breaker = () -> {
			while (breakReadsOnce()) {
				LockSupport.parkNanos(this, this.retryNanos);
			}
		};
		try {
			CancelExecutor.shared().execute(breaker);
		}
		catch (RuntimeException ex) {
			breakReadsOnce();
		}
	}

	/** Returns whether the wait still goes on. */
	private synchronized boolean breakReadsOnce() {
		// Under the lock that finish() takes: once the wait is over, the thread's reads are the
		// application's, never to be broken.
		if (this.finished) {
			return false;
		}
		BreakableSocketFactory.closeSocketsReadBy(guardedThread());
		return true;
	}

	/** Ends the wait; called by the waiting thread. */
	void finish() {
		// Only an interrupted wait has reads to break.
		if (endCall()) {
			synchronized (this) {
				this.finished = true;
			}
		}
	}

}
