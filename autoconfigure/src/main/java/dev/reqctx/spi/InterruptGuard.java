package dev.reqctx.spi;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The interrupt that stops a blocking call when its context is cancelled: while the call runs, a
 * cancel interrupts the thread blocked in it, and once the call has ended no interrupt of this
 * guard is left on the thread.
 *
 * <p>Interrupting is how a cancel reaches blocking APIs through their public contract only: a
 * pool's wait for a connection, {@code Future.get()}, Reactor's {@code block()} all give up when
 * their thread is interrupted. An interrupt that lands after the call, or stays set, would
 * poison whatever the thread does next, so the cancelling thread interrupts only while the call
 * runs, and {@link #endCall()} waits for an interrupt in progress and then clears it. An
 * interrupt that was pending before the call belongs to the application: it is never cleared.
 *
 * <p>A guard is created on the calling thread, which it guards, and serves one call:
 *
 * <pre>
 * InterruptGuard guard = new InterruptGuard();
 * Operation op = Contexts.startOperation(context, "kind", "what", (cause) -&gt; guard.interruptCall());
 * try {
 *     return blockingCall();
 * }
 * finally {
 *     op.remove();
 *     guard.endCall();
 * }
 * </pre>
 *
 * A cancel action that does more than interrupt extends the guard, so that a call still
 * allocates one object.
 */
public class InterruptGuard {

	private static final int CALLING = 0;

	/** The cancelling thread is between winning the call and interrupting it. */
	private static final int INTERRUPTING = 1;

	private static final int INTERRUPTED = 2;

	private static final int ENDED = 3;

	private static final VarHandle STATE;

	static {
		try {
			STATE = MethodHandles.lookup().findVarHandle(InterruptGuard.class, "interruptState", int.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private final Thread thread = Thread.currentThread();

	private final boolean interruptedBefore = this.thread.isInterrupted();

	@SuppressWarnings("unused") // accessed through STATE
	private volatile int interruptState;

	/** Creates a guard for a call about to run on the calling thread. */
	public InterruptGuard() {
	}

	/**
	 * Returns the thread this guard interrupts: the one that created it.
	 * @return the guarded thread
	 */
	protected final Thread guardedThread() {
		return this.thread;
	}

	/**
	 * Interrupts the guarded thread if its call has not ended; called by the cancelling thread.
	 * @return whether it interrupted the call
	 */
	public final boolean interruptCall() {
		if (!STATE.compareAndSet(this, CALLING, INTERRUPTING)) {
			return false;
		}
		this.thread.interrupt();
		this.interruptState = INTERRUPTED;
		return true;
	}

	/**
	 * Ends the call, on the guarded thread: from now on {@link #interruptCall()} does nothing, and
	 * an interrupt it sent is cleared (unless the thread was interrupted before the call).
	 * @return whether the call was interrupted
	 */
	public final boolean endCall() {
		int previous = (int) STATE.compareAndExchange(this, CALLING, ENDED);
		if (previous == CALLING || previous == ENDED) {
			return false;
		}
		// The cancelling thread is between its CAS and interrupt(): wait the few instructions it
		// needs, or the interrupt would land after it was cleared.
		while (this.interruptState == INTERRUPTING) {
			Thread.onSpinWait();
		}
		if (!this.interruptedBefore) {
			Thread.interrupted();
		}
		this.interruptState = ENDED;
		return true;
	}

}
