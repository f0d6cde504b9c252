package dev.reqctx.http;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

import dev.reqctx.CancellationCause;

/**
 * The cancel action of one outbound exchange: interrupts the thread that waits for the
 * response, and makes sure that interrupt never outlives the exchange.
 *
 * <p>Interrupting the waiting thread is how the clients that Spring wraps are told to give up
 * through public API only: Spring's {@code JdkClientHttpRequest} waits on the
 * {@code HttpClient.sendAsync} future and cancels it when interrupted, which (JDK 16+) aborts
 * the exchange and closes an HTTP/1.1 connection; Reactor Netty's {@code block()} disposes the
 * exchange; a pooled connection lease is abandoned. Blocking socket reads on platform threads
 * ignore interrupts, so the Apache client is aborted by {@link ContextCancellingExecHandler}
 * instead and the interrupt is harmless there.
 */
final class Exchange implements Consumer<CancellationCause> {

	/** The waiting thread may be interrupted. */
	private static final int WAITING = 0;

	/** The cancelling thread is interrupting the waiting thread. */
	private static final int INTERRUPTING = 1;

	/** The waiting thread was interrupted by this exchange. */
	private static final int INTERRUPTED = 2;

	/** The exchange returned; no interrupt may be sent any more. */
	private static final int DONE = 3;

	/**
	 * The thread was already interrupted by someone else when the exchange started: leave its
	 * interrupt status alone (the client will fail at once anyway).
	 */
	private static final int PASSIVE = 4;

	private static final VarHandle STATE;

	static {
		try {
			STATE = MethodHandles.lookup().findVarHandle(Exchange.class, "state", int.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private final Thread thread;

	private volatile int state;

	Exchange() {
		this.thread = Thread.currentThread();
		this.state = this.thread.isInterrupted() ? PASSIVE : WAITING;
	}

	/** Runs on the cancelling thread, at most once (the operation guarantees it). */
	@Override
	public void accept(CancellationCause cause) {
		if (STATE.compareAndSet(this, WAITING, INTERRUPTING)) {
			this.thread.interrupt();
			this.state = INTERRUPTED;
		}
	}

	/**
	 * Ends the window in which an interrupt may be sent, on the waiting thread, and clears the
	 * interrupt this exchange sent, if any, so it never leaks into the caller's code.
	 */
	void finish() {
		int previous = (int) STATE.compareAndExchange(this, WAITING, DONE);
		if (previous == INTERRUPTING || previous == INTERRUPTED) {
			// The cancelling thread is between its CAS and interrupt(): wait the few
			// instructions it needs, or the interrupt would land after we cleared it.
			while (this.state == INTERRUPTING) {
				Thread.onSpinWait();
			}
			Thread.interrupted();
		}
	}

}
