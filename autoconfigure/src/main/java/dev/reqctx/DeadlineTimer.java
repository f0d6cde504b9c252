package dev.reqctx;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one timer that fires every context deadline.
 *
 * <p>A binary heap of contexts ordered by deadline, with each context remembering its index so
 * that removal (the common case: requests finish before their deadline) is O(log n) and leaves
 * nothing behind. The contexts are the heap entries, so scheduling allocates nothing. Expired
 * contexts are handed to {@link Cancellations#executor()}: the timer thread never runs
 * listeners, so a slow cancel (a PostgreSQL cancel opens a connection) never delays another
 * deadline.
 */
final class DeadlineTimer {

	static final DeadlineTimer INSTANCE = new DeadlineTimer();

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition headChanged = this.lock.newCondition();

	private CancellableContext[] heap = new CancellableContext[64];

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

	private DeadlineTimer() {
	}

	void schedule(CancellableContext ctx) {
		long when = ctx.effectiveDeadline().nanoTime();
		ReentrantLock lock = this.lock;
		lock.lock();
		try {
			if (ctx.timerIndex >= 0 || ctx.cancellationCause() != null) {
				return;
			}
			int index = this.size++;
			if (index == this.heap.length) {
				this.heap = Arrays.copyOf(this.heap, index * 2);
			}
			siftUp(index, ctx, when);
			if (ctx.timerIndex == 0) {
				if (this.thread == null) {
					startThread();
				}
				else if (this.idle || when - this.wakeAt < 0) {
					this.headChanged.signal();
				}
			}
		}
		finally {
			lock.unlock();
		}
	}

	void remove(CancellableContext ctx) {
		ReentrantLock lock = this.lock;
		lock.lock();
		try {
			int index = ctx.timerIndex;
			if (index >= 0) {
				removeAt(index);
			}
		}
		finally {
			lock.unlock();
		}
	}

	/** Number of pending deadlines (for tests and metrics). */
	int size() {
		this.lock.lock();
		try {
			return this.size;
		}
		finally {
			this.lock.unlock();
		}
	}

	private void removeAt(int index) {
		CancellableContext[] heap = this.heap;
		CancellableContext removed = heap[index];
		removed.timerIndex = -1;
		int last = --this.size;
		CancellableContext moved = heap[last];
		heap[last] = null;
		if (index != last) {
			long when = moved.effectiveDeadline().nanoTime();
			siftDown(index, moved, when);
			if (heap[index] == moved) {
				siftUp(index, moved, when);
			}
		}
	}

	private void siftUp(int index, CancellableContext ctx, long when) {
		CancellableContext[] heap = this.heap;
		while (index > 0) {
			int parentIndex = (index - 1) >>> 1;
			CancellableContext parent = heap[parentIndex];
			if (when - parent.effectiveDeadline().nanoTime() >= 0) {
				break;
			}
			heap[index] = parent;
			parent.timerIndex = index;
			index = parentIndex;
		}
		heap[index] = ctx;
		ctx.timerIndex = index;
	}

	private void siftDown(int index, CancellableContext ctx, long when) {
		CancellableContext[] heap = this.heap;
		int half = this.size >>> 1;
		while (index < half) {
			int child = (index << 1) + 1;
			CancellableContext c = heap[child];
			long cWhen = c.effectiveDeadline().nanoTime();
			int right = child + 1;
			if (right < this.size) {
				long rWhen = heap[right].effectiveDeadline().nanoTime();
				if (rWhen - cWhen < 0) {
					child = right;
					c = heap[right];
					cWhen = rWhen;
				}
			}
			if (when - cWhen <= 0) {
				break;
			}
			heap[index] = c;
			c.timerIndex = index;
			index = child;
		}
		heap[index] = ctx;
		ctx.timerIndex = index;
	}

	private void startThread() {
		Thread t = new Thread(this::run, "reqctx-deadline-timer");
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
				CancellableContext head = this.heap[0];
				long headAt = head.effectiveDeadline().nanoTime();
				long delay = headAt - System.nanoTime();
				if (delay > 0) {
					this.idle = false;
					this.wakeAt = headAt;
					this.headChanged.awaitNanos(delay);
					continue;
				}
				removeAt(0);
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
			Cancellations.executor().execute(expired::expire);
		}
		catch (RuntimeException ex) {
			// The executor refused (it never should); cancelling here is better than never.
			expired.expire();
		}
	}

	@Override
	public String toString() {
		return "DeadlineTimer[pending=" + size() + ", next in "
				+ ((this.size > 0) ? TimeUnit.NANOSECONDS.toMillis(this.heap[0].remainingNanos()) + " ms" : "-")
				+ "]";
	}

}
