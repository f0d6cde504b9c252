package dev.reqctx;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import dev.reqctx.spi.CancelExecutor;

/**
 * The timer that fires context deadlines.
 *
 * <p>The request path takes no lock and wakes no thread for a deadline later than the timer's
 * next wake-up, which is every deadline of a request whose budget is longer than
 * {@link #LOOK_NANOS} (nearly all of them, and nearly none of them ever fires):
 * <ul>
 * <li>Scheduling pushes the context onto one of a few lock-free stacks (one CAS) and compares
 * its deadline with the time the timer thread will wake up by itself; only an earlier deadline
 * unparks the thread.
 * <li>Cancelling (a request ending, the common case) does nothing while the context is still on
 * a stack: the next push onto that stack leaves it out, or the timer thread drops it. A context the thread already moved into
 * its heap is pushed onto a removal stack (one CAS), which the thread empties when it next looks.
 * </ul>
 * A request pays less still: a live root's deadline more than {@link #WATCH_BEYOND_NANOS} away
 * is only marked {@link #WATCHED} in its context, and the thread, which looks through the live
 * contexts of each runtime it was told of on every look, moves it into the heap once it is due
 * within two looks (see {@link LiveContexts#sweep}). A request that ends first never reaches the
 * timer at all.
 *
 * <p>The timer thread owns a pairing heap of contexts ordered by deadline (the contexts are its
 * nodes, so nothing is allocated). While anything is pending it looks at its stacks at least every
 * {@link #LOOK_NANOS}, so a finished context stays referenced for that long at most; after a
 * second with nothing pending and nothing in flight it parks until the next schedule or
 * registration. Insertion is O(1) whatever the order of deadlines,
 * removing a node that is not the root O(1) plus melding its children, removing the root
 * O(log n) amortized: 10,000 pending deadlines cost what 10 do. Expired contexts are handed to
 * {@link CancelExecutor#shared()}: the timer thread never runs listeners, so a slow cancel (a
 * PostgreSQL cancel opens a connection) never delays another deadline.
 *
 * <p>Before (up to stop 20) each of a few stripes had a lock, a heap and a thread, and every
 * request took a stripe's lock twice; under {@code wrk} on one core the lock's hand-offs
 * (a futex wake and a context switch) were most of the timer's cost per request.
 */
final class DeadlineTimer {

	/** The deadline is on an incoming stack, not yet seen by the timer thread. */
	static final int QUEUED = 1;

	/** The deadline is in the timer thread's heap. */
	static final int IN_HEAP = 2;

	/** The timer is done with the deadline: fired, or dropped because the context was cancelled. */
	static final int DONE = 3;

	/**
	 * The deadline of a root in its runtime's live contexts, further away than
	 * {@link #WATCH_BEYOND_NANOS} when it started: the timer thread finds it there when it is near.
	 */
	static final int WATCHED = 4;

	/** How often, at least, the timer thread looks at its stacks while anything is pending. */
	static final long LOOK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

	/**
	 * A live root's deadline further away than this is left in the live contexts: the timer thread
	 * moves it into its heap on the look that finds it due within the next two looks, so it is in
	 * the heap at least one look before it is due.
	 */
	static final long WATCH_BEYOND_NANOS = 3 * LOOK_NANOS;

	/** Looks in a row with nothing pending and nothing in flight before the thread parks. */
	private static final int IDLE_LOOKS_BEFORE_PARKING = 10;

	/** The live contexts the thread looks through on every look. */
	private static final List<WeakReference<LiveContexts>> SWEPT = new CopyOnWriteArrayList<>();

	/** Owned by the timer thread. */
	private static int idleLooks;

	private static final VarHandle STATE;

	static {
		try {
			STATE = MethodHandles.privateLookupIn(CancellableContext.class, MethodHandles.lookup())
				.findVarHandle(CancellableContext.class, "timerState", int.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private static final AtomicReferenceArray<CancellableContext> INCOMING = new AtomicReferenceArray<>(
			Integer.highestOneBit(Math.max(2, Math.min(16, 2 * Runtime.getRuntime().availableProcessors()))));

	private static final AtomicReference<CancellableContext> REMOVED = new AtomicReference<>();

	/** When the timer thread will wake up by itself, unless {@link #parked} (it waits for a push). */
	private static volatile long wakeAt;

	private static volatile boolean parked;

	/** A test's request to run something on the timer thread, after it has emptied its stacks. */
	private static final AtomicReference<Sync<?>> SYNC = new AtomicReference<>();

	/** Owned by the timer thread: the context with the earliest deadline, {@code null} for none. */
	private static CancellableContext root;

	/** Owned by the timer thread. */
	private static int size;

	private static final Thread THREAD;

	static {
		Thread t = new Thread(DeadlineTimer::run, "reqctx-deadline-timer");
		t.setDaemon(true);
		t.setPriority(Thread.MAX_PRIORITY);
		THREAD = t;
		t.start();
	}

	private DeadlineTimer() {
	}

	/** Schedules the context's deadline; it must have one. Called once per context. */
	static void schedule(CancellableContext ctx) {
		STATE.setRelease(ctx, QUEUED);
		push(ctx);
	}

	private static void push(CancellableContext ctx) {
		int stack = (int) ctx.sequence() & (INCOMING.length() - 1);
		CancellableContext head;
		do {
			head = INCOMING.get(stack);
			// Contexts on the stack that were cancelled since they were pushed (under load, nearly
			// every request before this one) are left out rather than kept for the timer thread to
			// drop: the stack holds the contexts still running, not the last 100 ms of requests.
			CancellableContext below = head;
			while (below != null && below.cancellationCause() != null) {
				below = below.timerQueueNext;
			}
			ctx.timerQueueNext = below;
		}
		while (!INCOMING.compareAndSet(stack, head, ctx));
		// After the push (a full fence): the thread either sees this context when it next looks,
		// or has published a wake-up time this deadline is compared with.
		if (parked || due(ctx) - wakeAt < 0) {
			LockSupport.unpark(THREAD);
		}
	}

	/** Makes the timer thread look through the live contexts on every look. */
	static void sweep(LiveContexts live) {
		synchronized (SWEPT) {
			if (!live.swept) {
				SWEPT.add(new WeakReference<>(live));
				live.swept = true;
			}
		}
		registered();
	}

	/**
	 * A root was registered in live contexts the thread looks through: wakes the thread if it
	 * parked with nothing to do. Read after the registration was published (the stripe's lock
	 * released, or the volatile write of a thread's home): either the thread's last look through
	 * that registry came after it (and did not park), or it set {@link #parked} before that look,
	 * and this read sees it.
	 */
	static void registered() {
		if (parked) {
			LockSupport.unpark(THREAD);
		}
	}

	/** A root left its live contexts without being cancelled: its deadline goes to a stack. */
	static void unregistered(CancellableContext ctx) {
		if ((int) STATE.getVolatile(ctx) == WATCHED && STATE.compareAndSet(ctx, WATCHED, QUEUED)) {
			push(ctx);
		}
	}

	/**
	 * On the timer thread, for a context found registered (in a registry stripe, under its lock,
	 * or in a thread's home): moves a watched deadline due before {@code horizon} into the heap.
	 * A context leaving the registry at the same moment races on its state, not on the lock:
	 * either this moves it into the heap or {@link #unregistered} pushes it, once.
	 */
	static void offer(CancellableContext ctx, long horizon) {
		if ((int) STATE.getVolatile(ctx) != WATCHED || due(ctx) - horizon > 0 || ctx.cancellationCause() != null) {
			return;
		}
		// As for a push: marked first, then the cancel checked, so that a cancel either sees it
		// in the heap (and asks for its removal) or is seen here.
		if (STATE.compareAndSet(ctx, WATCHED, IN_HEAP)) {
			if (ctx.cancellationCause() != null) {
				STATE.setVolatile(ctx, DONE);
			}
			else {
				size++;
				root = (root != null) ? meld(root, ctx) : ctx;
			}
		}
	}

	/** Looks through the swept live contexts; returns whether anything is in flight in them. */
	private static boolean sweepLive(long now) {
		boolean any = false;
		long horizon = now + 2 * LOOK_NANOS;
		for (WeakReference<LiveContexts> ref : SWEPT) {
			LiveContexts live = ref.get();
			if (live == null) {
				SWEPT.remove(ref);
			}
			else if (live.sweep(now, horizon)) {
				any = true;
			}
		}
		return any;
	}

	/** Releases the deadline of a context that was cancelled; called after the cancel is set. */
	static void remove(CancellableContext ctx) {
		if ((int) STATE.getVolatile(ctx) != IN_HEAP) {
			return; // on a stack (the timer thread drops it), done, or never scheduled
		}
		CancellableContext head;
		do {
			head = REMOVED.get();
			ctx.timerQueueNext = head;
		}
		while (!REMOVED.compareAndSet(head, ctx));
	}

	/** Whether the context's deadline is pending (for tests): waits for the timer thread to look. */
	static boolean isScheduled(CancellableContext ctx) {
		return onTimerThread(() -> (int) STATE.getVolatile(ctx) == IN_HEAP);
	}

	/** Whether any of the contexts' deadlines is pending (for tests): one look of the timer thread. */
	static boolean anyScheduled(Collection<CancellableContext> contexts) {
		return onTimerThread(() -> contexts.stream().anyMatch((ctx) -> (int) STATE.getVolatile(ctx) == IN_HEAP));
	}

	/** Number of pending deadlines (for tests): waits for the timer thread to look. */
	static int pending() {
		return onTimerThread(() -> size);
	}

	/**
	 * Checks the heap's structure on the timer thread: links agree both ways, no child is due
	 * before its parent, every node is live and the node count is the size. For tests.
	 * @throws IllegalStateException describing the first broken rule
	 */
	static void verify() {
		String problem = onTimerThread(() -> {
			try {
				int count = 0;
				if (root != null) {
					if (root.timerPrev != null || root.timerNext != null) {
						return "the root has siblings or a back link";
					}
					count = verify(root);
				}
				return (count != size) ? count + " nodes, size " + size : null;
			}
			catch (IllegalStateException ex) {
				return ex.getMessage();
			}
		});
		if (problem != null) {
			throw new IllegalStateException("reqctx-deadline-timer: " + problem);
		}
	}

	private static int verify(CancellableContext top) {
		// Iterative: a pairing heap can be a long chain.
		int count = 0;
		Deque<CancellableContext> todo = new ArrayDeque<>();
		todo.push(top);
		while (!todo.isEmpty()) {
			CancellableContext parent = todo.pop();
			count++;
			if ((int) STATE.getVolatile(parent) != IN_HEAP) {
				throw new IllegalStateException(parent + " is in the heap but not marked so");
			}
			CancellableContext prev = parent;
			for (CancellableContext child = parent.timerChild; child != null; child = child.timerNext) {
				if (child.timerPrev != prev) {
					throw new IllegalStateException("broken back link at " + child);
				}
				if (due(child) - due(parent) < 0) {
					throw new IllegalStateException(child + " is due before its parent " + parent);
				}
				todo.push(child);
				prev = child;
			}
		}
		return count;
	}

	/** Runs the action on the timer thread once it has emptied its stacks, and returns its result. */
	private static <T> T onTimerThread(Supplier<T> action) {
		Sync<T> sync = new Sync<>(action);
		while (!SYNC.compareAndSet(null, sync)) {
			Thread.onSpinWait();
		}
		LockSupport.unpark(THREAD);
		long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		while (!sync.done) {
			if (System.nanoTime() - giveUp > 0) {
				throw new IllegalStateException("The deadline timer thread did not answer in 10 s");
			}
			LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
		}
		return sync.result;
	}

	private static long due(CancellableContext ctx) {
		return ctx.effectiveDeadline().nanoTime();
	}

	private static void run() {
		while (true) {
			try {
				look();
			}
			catch (Throwable ex) {
				// Never reached on purpose; keep serving deadlines.
			}
		}
	}

	/** One turn of the timer thread: empty the stacks, fire what is due, then wait. */
	private static void look() {
		Deadline.WallClock.refresh();
		boolean pushed = drainIncoming();
		drainRemoved();
		long now = System.nanoTime();
		boolean inFlight = sweepLive(now);
		while (root != null && due(root) - now <= 0) {
			CancellableContext expired = root;
			removeNode(expired);
			STATE.setVolatile(expired, DONE);
			if (expired.cancellationCause() == null) {
				dispatch(expired);
			}
		}
		Sync<?> sync = SYNC.get();
		if (sync != null) {
			sync.run();
			SYNC.set(null);
		}
		// Parks only after a second with nothing to do: on a busy core there is often nothing in
		// flight between two looks, and parking at once would make the next request wake it.
		idleLooks = (root == null && !pushed && !inFlight) ? idleLooks + 1 : 0;
		if (idleLooks >= IDLE_LOOKS_BEFORE_PARKING) {
			idleLooks = 0;
			parked = true;
			if (!incomingEmpty() || SYNC.get() != null || sweepLive(System.nanoTime()) || root != null) {
				parked = false;
				return;
			}
			LockSupport.park();
			parked = false;
			return;
		}
		long until = now + LOOK_NANOS;
		if (root != null && due(root) - until < 0) {
			until = due(root);
		}
		wakeAt = until;
		// A push since the stacks were emptied compared its deadline with the previous wake-up
		// time: look at it before sleeping until a later one.
		if (!incomingEmpty() || SYNC.get() != null) {
			return;
		}
		long delay = until - System.nanoTime();
		if (delay > 0) {
			LockSupport.parkNanos(delay);
		}
	}

	/** Moves the pushed contexts into the heap, dropping those already cancelled. */
	private static boolean drainIncoming() {
		boolean any = false;
		for (int i = 0; i < INCOMING.length(); i++) {
			CancellableContext ctx = (INCOMING.get(i) != null) ? INCOMING.getAndSet(i, null) : null;
			while (ctx != null) {
				any = true;
				CancellableContext next = ctx.timerQueueNext;
				ctx.timerQueueNext = null;
				// Marked first: a cancel from now on sees it in the heap and asks for its removal;
				// one before is seen here.
				STATE.setVolatile(ctx, IN_HEAP);
				if (ctx.cancellationCause() != null) {
					STATE.setVolatile(ctx, DONE);
				}
				else {
					size++;
					root = (root != null) ? meld(root, ctx) : ctx;
				}
				ctx = next;
			}
		}
		return any;
	}

	private static void drainRemoved() {
		CancellableContext ctx = (REMOVED.get() != null) ? REMOVED.getAndSet(null) : null;
		while (ctx != null) {
			CancellableContext next = ctx.timerQueueNext;
			ctx.timerQueueNext = null;
			// Dropped while emptying the incoming stack, or already fired: nothing to remove.
			if ((int) STATE.getVolatile(ctx) == IN_HEAP) {
				removeNode(ctx);
				STATE.setVolatile(ctx, DONE);
			}
			ctx = next;
		}
	}

	private static boolean incomingEmpty() {
		for (int i = 0; i < INCOMING.length(); i++) {
			if (INCOMING.get(i) != null) {
				return false;
			}
		}
		return true;
	}

	/** Removes a node of the heap. */
	private static void removeNode(CancellableContext node) {
		size--;
		CancellableContext children = node.timerChild;
		node.timerChild = null;
		if (node == root) {
			root = mergePairs(children);
			return;
		}
		CancellableContext prev = node.timerPrev;
		CancellableContext next = node.timerNext;
		if (prev.timerChild == node) {
			prev.timerChild = next;
		}
		else {
			prev.timerNext = next;
		}
		if (next != null) {
			next.timerPrev = prev;
		}
		node.timerPrev = null;
		node.timerNext = null;
		if (children != null) {
			// Its subtree is due no earlier than it was, so no earlier than the root.
			adopt(root, mergePairs(children));
		}
	}

	/** Makes {@code child} (a detached tree) the first child of {@code parent}. */
	private static void adopt(CancellableContext parent, CancellableContext child) {
		CancellableContext first = parent.timerChild;
		child.timerPrev = parent;
		child.timerNext = first;
		if (first != null) {
			first.timerPrev = child;
		}
		parent.timerChild = child;
	}

	/** Melds two detached trees; returns the new root. */
	private static CancellableContext meld(CancellableContext a, CancellableContext b) {
		if (due(b) - due(a) < 0) {
			adopt(b, a);
			return b;
		}
		adopt(a, b);
		return a;
	}

	/**
	 * Melds a list of sibling trees into one (two passes: pairs left to right, then the pairs
	 * right to left) and returns its detached root, {@code null} for an empty list.
	 */
	private static CancellableContext mergePairs(CancellableContext first) {
		CancellableContext pairs = null; // melded pairs, last first, linked through timerNext
		CancellableContext a = first;
		while (a != null) {
			CancellableContext b = a.timerNext;
			CancellableContext rest = (b != null) ? b.timerNext : null;
			a.timerPrev = null;
			a.timerNext = null;
			CancellableContext pair = a;
			if (b != null) {
				b.timerPrev = null;
				b.timerNext = null;
				pair = meld(a, b);
			}
			pair.timerNext = pairs;
			pairs = pair;
			a = rest;
		}
		if (pairs == null) {
			return null;
		}
		CancellableContext result = pairs;
		CancellableContext next = result.timerNext;
		result.timerNext = null;
		while (next != null) {
			CancellableContext after = next.timerNext;
			next.timerNext = null;
			result = meld(result, next);
			next = after;
		}
		return result;
	}

	private static void dispatch(CancellableContext expired) {
		try {
			CancelExecutor.shared().execute(expired::expire);
		}
		catch (RuntimeException ex) {
			// The executor refused (it never should); cancelling here is better than never.
			expired.expire();
		}
	}

	/** A test's action for the timer thread. */
	private static final class Sync<T> {

		private final Supplier<T> action;

		private T result;

		private volatile boolean done;

		Sync(Supplier<T> action) {
			this.action = action;
		}

		void run() {
			this.result = this.action.get();
			this.done = true;
		}

	}

}
