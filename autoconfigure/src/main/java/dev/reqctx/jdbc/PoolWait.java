package dev.reqctx.jdbc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import dev.reqctx.CancellationCause;
import dev.reqctx.spi.CancelExecutor;

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
 *
 * <p>An interrupt that arrives after the wait would poison whatever the thread does next, so
 * the waiter and the canceller agree through a small state machine: the canceller interrupts
 * only while the thread still waits, and {@link #finish()} waits for an interrupt in progress
 * and then clears it.
 */
final class PoolWait implements Consumer<CancellationCause> {

	private static final int WAITING = 0;

	private static final int INTERRUPTING = 1;

	private static final int INTERRUPTED = 2;

	private static final int FINISHED = 3;

	private static final VarHandle STATE;

	static {
		try {
			STATE = MethodHandles.lookup().findVarHandle(PoolWait.class, "state", int.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private final Thread waiter = Thread.currentThread();

	private final long retryNanos;

	/** An interrupt that was pending before the wait belongs to the application: keep it. */
	private final boolean interruptedBefore = this.waiter.isInterrupted();

	@SuppressWarnings("unused") // accessed through STATE
	private volatile int state;

	PoolWait(long retryNanos) {
		this.retryNanos = retryNanos;
	}

	@Override
	public void accept(CancellationCause cause) {
		if (STATE.compareAndSet(this, WAITING, INTERRUPTING)) {
			this.waiter.interrupt();
			this.state = INTERRUPTED;
			if (BreakableSocketFactory.inUse()) {
				breakReads();
			}
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
		if (this.state == FINISHED) {
			return false;
		}
		BreakableSocketFactory.closeSocketsReadBy(this.waiter);
		return true;
	}

	/** Ends the wait; called by the waiting thread. */
	void finish() {
		if (STATE.compareAndSet(this, WAITING, FINISHED)) {
			return;
		}
		while (this.state == INTERRUPTING) {
			Thread.onSpinWait();
		}
		synchronized (this) {
			this.state = FINISHED;
		}
		if (!this.interruptedBefore) {
			Thread.interrupted();
		}
	}

}
