package dev.reqctx.jdbc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

import dev.reqctx.CancellationCause;

/**
 * The cancel action of a thread waiting for a pooled connection: it interrupts the waiting
 * thread, which pools answer by giving up the wait.
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

	/** An interrupt that was pending before the wait belongs to the application: keep it. */
	private final boolean interruptedBefore = this.waiter.isInterrupted();

	@SuppressWarnings("unused") // accessed through STATE
	private volatile int state;

	@Override
	public void accept(CancellationCause cause) {
		if (STATE.compareAndSet(this, WAITING, INTERRUPTING)) {
			this.waiter.interrupt();
			this.state = INTERRUPTED;
		}
	}

	/** Ends the wait; called by the waiting thread. */
	void finish() {
		if (STATE.compareAndSet(this, WAITING, FINISHED)) {
			return;
		}
		while (this.state == INTERRUPTING) {
			Thread.onSpinWait();
		}
		if (!this.interruptedBefore) {
			Thread.interrupted();
		}
	}

}
