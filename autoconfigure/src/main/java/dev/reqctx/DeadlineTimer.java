package dev.reqctx;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import dev.reqctx.spi.CancelExecutor;

/**
 * The timers that fire context deadlines.
 *
 * <p>A pairing heap of contexts ordered by deadline: the contexts are the heap's nodes (each
 * carries its first child, next sibling and previous link), so scheduling allocates nothing.
 * Scheduling is O(1) whatever the order of deadlines: the new context and the root are
 * linked, the earlier becomes the root. Removing a context that is not the root (the common
 * case: requests finish before their deadline, and the root is the oldest) unlinks it in
 * O(1) and melds back its own children, usually none. Removing the root pairs up its children,
 * O(log n) amortized. A binary heap, used before, paid O(log n) sifts on both ends whenever a
 * new deadline was earlier than the pending ones (a short budget among long ones): about 2.4x
 * the cost at 10,000 pending, where the pairing heap stays flat. Expired
 * contexts are handed to {@link dev.reqctx.spi.CancelExecutor#shared()}: the timer thread never runs
 * listeners, so a slow cancel (a PostgreSQL cancel opens a connection) never delays another
 * deadline.
 *
 * <p>There are a few such timers (stripes), each with its own lock, heap and thread, and a
 * context always uses the same one (chosen by its id). Every request takes a timer's lock twice,
 * to schedule and to remove its deadline; with one lock for all, a thread preempted while
 * holding it stalled every request behind it (JFR showed parks of 10 ms and more under
 * {@code wrk} on a busy 2-core machine). With stripes it stalls only its own stripe.
 */
final class DeadlineTimer {

	private static final DeadlineTimer[] STRIPES;

	static {
		int count = Integer.highestOneBit(Math.max(2, Math.min(16, 2 * Runtime.getRuntime().availableProcessors())));
		STRIPES = new DeadlineTimer[count];
		for (int i = 0; i < count; i++) {
			STRIPES[i] = new DeadlineTimer("reqctx-deadline-timer-" + i);
		}
	}

	private final String threadName;

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition headChanged = this.lock.newCondition();

	/** The context with the earliest deadline, {@code null} when none is pending. */
	private CancellableContext root;

	private int size;

	private Thread thread;

	/**
	 * When the timer thread will next wake up by itself; {@code idle} when it waits for a
	 * signal. Scheduling signals the thread only for a deadline earlier than that: with
	 * requests of similar timeouts, new deadlines come after the head, so almost no schedule
	 * pays for waking a thread.
	 */
	private long wakeAt;

	private boolean idle = true;

	private DeadlineTimer(String threadName) {
		this.threadName = threadName;
	}

	/** Schedules the context's deadline; it must have one. */
	static void schedule(CancellableContext ctx) {
		stripeOf(ctx).add(ctx);
	}

	/** Removes the context's deadline if it is scheduled. */
	static void remove(CancellableContext ctx) {
		stripeOf(ctx).delete(ctx);
	}

	/** Whether the context's deadline is pending (for tests). */
	static boolean isScheduled(CancellableContext ctx) {
		DeadlineTimer stripe = stripeOf(ctx);
		stripe.lock.lock();
		try {
			return stripe.root == ctx || ctx.timerPrev != null;
		}
		finally {
			stripe.lock.unlock();
		}
	}

	/** Number of pending deadlines, over all stripes (for tests and metrics). */
	static int pending() {
		int total = 0;
		for (DeadlineTimer stripe : STRIPES) {
			total += stripe.size();
		}
		return total;
	}

	/**
	 * Walks every stripe's heap and checks its structure: links agree both ways, no child is
	 * due before its parent, and the node count is the stripe's size. For tests.
	 * @throws IllegalStateException describing the first broken rule
	 */
	static void verify() {
		for (DeadlineTimer stripe : STRIPES) {
			stripe.lock.lock();
			try {
				int count = 0;
				CancellableContext root = stripe.root;
				if (root != null) {
					if (root.timerPrev != null || root.timerNext != null) {
						throw new IllegalStateException(stripe.threadName + ": the root has siblings or a back link");
					}
					count = verify(stripe, root);
				}
				if (count != stripe.size) {
					throw new IllegalStateException(stripe.threadName + ": " + count + " nodes, size " + stripe.size);
				}
			}
			finally {
				stripe.lock.unlock();
			}
		}
	}

	private static int verify(DeadlineTimer stripe, CancellableContext root) {
		// Iterative: a pairing heap can be a long chain.
		int count = 0;
		Deque<CancellableContext> todo = new ArrayDeque<>();
		todo.push(root);
		while (!todo.isEmpty()) {
			CancellableContext parent = todo.pop();
			count++;
			CancellableContext prev = parent;
			for (CancellableContext child = parent.timerChild; child != null; child = child.timerNext) {
				if (child.timerPrev != prev) {
					throw new IllegalStateException(stripe.threadName + ": broken back link at " + child);
				}
				if (due(child) - due(parent) < 0) {
					throw new IllegalStateException(stripe.threadName + ": " + child + " is due before its parent " + parent);
				}
				todo.push(child);
				prev = child;
			}
		}
		return count;
	}

	private static DeadlineTimer stripeOf(CancellableContext ctx) {
		// Ids are sequential, so consecutive contexts land on different stripes.
		return STRIPES[(int) ctx.sequence() & (STRIPES.length - 1)];
	}

	private static long due(CancellableContext ctx) {
		return ctx.effectiveDeadline().nanoTime();
	}

	private boolean contains(CancellableContext ctx) {
		// Every node but the root has a back link (its parent or previous sibling).
		return ctx.timerPrev != null || ctx == this.root;
	}

	private void add(CancellableContext ctx) {
		ReentrantLock lock = this.lock;
		lock.lock();
		try {
			if (contains(ctx) || ctx.cancellationCause() != null) {
				return;
			}
			this.size++;
			CancellableContext root = this.root;
			this.root = (root != null) ? meld(root, ctx) : ctx;
			if (this.root != ctx) {
				return; // not the earliest: the timer thread's wake-up stands
			}
			if (this.thread == null) {
				startThread();
			}
			else if (this.idle || due(ctx) - this.wakeAt < 0) {
				this.headChanged.signal();
			}
		}
		finally {
			lock.unlock();
		}
	}

	private void delete(CancellableContext ctx) {
		ReentrantLock lock = this.lock;
		lock.lock();
		try {
			if (contains(ctx)) {
				removeNode(ctx);
			}
		}
		finally {
			lock.unlock();
		}
	}

	private int size() {
		this.lock.lock();
		try {
			return this.size;
		}
		finally {
			this.lock.unlock();
		}
	}

	/** Removes a node of this heap. */
	private void removeNode(CancellableContext node) {
		this.size--;
		CancellableContext children = node.timerChild;
		node.timerChild = null;
		if (node == this.root) {
			this.root = mergePairs(children);
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
			adopt(this.root, mergePairs(children));
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

	private void startThread() {
		Thread t = new Thread(this::run, this.threadName);
		t.setDaemon(true);
		t.setPriority(Thread.MAX_PRIORITY);
		this.thread = t;
		t.start();
	}

	private void run() {
		ReentrantLock lock = this.lock;
		while (true) {
			CancellableContext expired = null;
			lock.lock();
			try {
				if (this.size == 0) {
					this.idle = true;
					this.headChanged.awaitUninterruptibly();
					continue;
				}
				CancellableContext head = this.root;
				long headAt = due(head);
				long delay = headAt - System.nanoTime();
				if (delay > 0) {
					this.idle = false;
					this.wakeAt = headAt;
					this.headChanged.awaitNanos(delay);
					continue;
				}
				removeNode(head);
				expired = head;
			}
			catch (InterruptedException ex) {
				// The timer thread is never interrupted on purpose; keep serving deadlines.
			}
			finally {
				lock.unlock();
			}
			if (expired != null) {
				dispatch(expired);
			}
		}
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

	@Override
	public String toString() {
		return "DeadlineTimer[pending=" + size() + ", next in "
				+ ((this.root != null) ? TimeUnit.NANOSECONDS.toMillis(this.root.remainingNanos()) + " ms" : "-")
				+ "]";
	}

}
