package dev.reqctx;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * An entry in a {@link CancellableContext}'s list of things to cancel: a listener, a child
 * context or a tracked operation. Entries form an intrusive doubly linked list guarded by the
 * owning context's monitor, so adding and removing are O(1) and allocate nothing beyond the entry.
 */
abstract class CancelNode {

	private static final int PENDING = 0;

	private static final int FIRED = 1;

	private static final int REMOVED = 2;

	private static final VarHandle STATE;

	static {
		try {
			STATE = MethodHandles.lookup().findVarHandle(CancelNode.class, "state", int.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	/** The context whose list holds this node; {@code null} once unlinked. Guarded by owner. */
	CancellableContext owner;

	CancelNode prev;

	CancelNode next;

	@SuppressWarnings("unused") // accessed through STATE
	private volatile int state;

	/**
	 * Runs the cancellation action. Called at most once, never under a lock.
	 * @param cause the cancellation cause
	 */
	abstract void fire(CancellationCause cause);

	/** Claims the right to fire; exactly one of fire and remove wins. */
	final boolean claimFire() {
		return STATE.compareAndSet(this, PENDING, FIRED);
	}

	/** Claims the right to remove; exactly one of fire and remove wins. */
	final boolean claimRemove() {
		return STATE.compareAndSet(this, PENDING, REMOVED);
	}

	final boolean hasFired() {
		return (int) STATE.getVolatile(this) == FIRED;
	}

	/**
	 * Unlinks this node from its context (if still linked) and prevents it from firing.
	 * @return {@code true} if the action will never run
	 */
	final boolean unlink() {
		CancellableContext ctx = this.owner;
		if (ctx != null) {
			ctx.removeNode(this);
		}
		return claimRemove();
	}

}
