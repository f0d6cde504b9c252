package dev.reqctx;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import dev.reqctx.spi.CancellationHistory;
import dev.reqctx.spi.ContextTree;
import dev.reqctx.spi.Operation;
import dev.reqctx.spi.OrphanHandler;

/**
 * A {@link RequestContext} with a cancellation of its own: it can be cancelled without affecting
 * its parent, and it is cancelled (with the parent's cause) whenever its parent is.
 *
 * <p>Cancellation is idempotent and the first cause wins. Cancelling runs, synchronously on the
 * cancelling thread, the cancellation of every descendant and every registered listener.
 *
 * <p>Closing the context cancels it with {@link CancellationCause#COMPLETED}, which is how a
 * finished piece of work releases its timer and stops its leftover children:
 *
 * <pre>
 * try (CancellableContext ctx = RequestContext.current().withTimeout(Duration.ofSeconds(1))) {
 *     return ctx.wrap(() -&gt; callRemoteService()).call();
 * }
 * </pre>
 */
public final class CancellableContext extends RequestContext implements AutoCloseable {

	/** Ids start at a random point so that ids from two runs of a service rarely collide. */
	private static final VarHandle TRANSPORT;

	private static final VarHandle ID;

	static {
		try {
			TRANSPORT = MethodHandles.lookup().findVarHandle(CancellableContext.class, "transport", Object.class);
			ID = MethodHandles.lookup().findVarHandle(CancellableContext.class, "id", long.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private static final AtomicLong IDS = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40) << 8);

	/**
	 * Taken from {@link #IDS} at creation for roots, tasks and contexts with a deadline of their
	 * own (the live tree and the timer ask for it at once), and the first time something asks for
	 * a scope made with {@code withCancel()}: most are never asked, and the shared counter is a
	 * contended write. {@code 0} until then.
	 */
	private long id;

	private final ContextKind kind;

	private final Object label;

	final long startNanos;

	/**
	 * Whether {@link #startNanos} was read: not for a scope without a deadline of its own and
	 * without a parent ({@code RequestContext.root().withCancel()}), which is in no live tree
	 * and whose age nothing shows. A clock read is most of the cost of such a scope.
	 */
	private final boolean clocked;

	private final CancellableContext parent;

	/** The application this context's root was started in. */
	final ContextRuntime runtime;

	/** What {@link #attach()} binds: a view that shares this context's cancellation but cannot cancel. */
	private RequestContext readOnly;

	/** The earlier of this context's own deadline and its parent's; {@code null} if neither. */
	private final Deadline deadline;

	/** Whether this context's own deadline is earlier than its parent's, so it needs a timer. */
	final boolean timed;

	private volatile CancellationCause cancellation;

	/**
	 * Written before {@link #cancellation} (volatile), so readers of the cause see it. Read from
	 * the clock for a failure of a clocked context, passed down by a cascading parent, and
	 * {@code 0} for a completion (an exception for that measures to when it is made).
	 */
	private long cancelledAtNanos;

	/** Head of the list of listeners, children and operations; guarded by this. */
	private CancelNode head;

	/** This context's entry in its parent's list, {@code null} for roots. */
	private ChildLink parentLink;

	/** Links in the deadline timer's pairing heap; owned by the timer's thread. */
	CancellableContext timerChild;

	CancellableContext timerNext;

	/** The parent (for a first child) or previous sibling; {@code null} for the root and when not scheduled. */
	CancellableContext timerPrev;

	/** The next context in the timer's incoming or removal stack; written before the push. */
	CancellableContext timerQueueNext;

	/** Where the timer holds this context's deadline: see {@link DeadlineTimer}; volatile access only. */
	int timerState;

	/** Links in the live-context registry; guarded by the registry stripe. */
	CancellableContext registryPrev;

	CancellableContext registryNext;

	boolean registered;

	/** The thread's home this context is registered in, instead of a stripe; see {@link LiveContexts}. */
	LiveContexts.Home home;

	/** The thread currently running this context's work, for the live tree. */
	private volatile Thread thread;

	/** What a root came in over (the servlet request), read by a watcher on another thread. */
	private Object transport;

	private String idString;

	/** For tasks: told when the parent completes while this task is unfinished. */
	private final OrphanHandler orphanHandler;

	/** For tasks: whether to keep running (not cancelled) when orphaned. */
	private final boolean survivesCompletion;

	/** Set when the work finished normally, so completing the parent is not an orphaning. */
	private volatile boolean finished;

	/** For tasks: set when a root's recorded cancel signals this task. */
	private volatile CancellationHistory.Step cancelStep;

	private CancellableContext(ContextRuntime runtime, RequestContext base, ContextKind kind, Object label,
			long startNanos, boolean clocked, Deadline ownDeadline, OrphanHandler orphanHandler,
			boolean survivesCompletion) {
		super(null, base.values);
		this.id = (runtime != null || kind == ContextKind.TASK || ownDeadline != null) ? IDS.incrementAndGet() : 0;
		this.kind = kind;
		this.label = label;
		this.startNanos = startNanos;
		this.clocked = clocked;
		this.parent = (runtime != null) ? null : base.scope();
		this.runtime = (runtime != null) ? runtime : (this.parent != null) ? this.parent.runtime : ContextRuntime.global();
		this.orphanHandler = orphanHandler;
		this.survivesCompletion = survivesCompletion;
		Deadline parentDeadline = (this.parent != null) ? this.parent.deadline : null;
		if (ownDeadline != null && (parentDeadline == null || ownDeadline.isBefore(parentDeadline))) {
			this.deadline = ownDeadline;
			this.timed = true;
		}
		else {
			this.deadline = parentDeadline;
			this.timed = false;
		}
	}

	static CancellableContext create(RequestContext base, ContextKind kind, Object label, Deadline deadline) {
		if (deadline != null && !deadline.isSystem()) {
			// The timer waits on System.nanoTime(), and the start time and the parent's deadline
			// are on that clock too: another ticker's time would fire at a meaningless moment.
			// Refused rather than converted: a fake ticker is for testing deadline arithmetic,
			// and a context runs in real time.
			throw new IllegalArgumentException("A context's deadline must use Deadline.Ticker.system(), not "
					+ deadline.ticker());
		}
		boolean clocked = deadline != null || base.scope() != null;
		CancellableContext ctx = new CancellableContext(null, base, kind, label, clocked ? System.nanoTime() : 0,
				clocked, deadline, null, false);
		ctx.start();
		return ctx;
	}

	/**
	 * Creates a root of the given runtime that takes only the values of {@code base}, with the
	 * given deadline or none.
	 */
	static CancellableContext createRoot(ContextRuntime runtime, RequestContext base, ContextKind kind,
			Object label, Deadline deadline) {
		if (deadline != null && !deadline.isSystem()) {
			throw new IllegalArgumentException("A context's deadline must use Deadline.Ticker.system(), not "
					+ deadline.ticker());
		}
		CancellableContext ctx = new CancellableContext(runtime, base, kind, label, System.nanoTime(), true, deadline,
				null, false);
		ctx.start();
		return ctx;
	}

	/**
	 * Creates a context whose deadline is {@code timeoutNanos} after its start, reading the
	 * clock once for both (a clock read is a good part of a request's bookkeeping). With a
	 * runtime, the context is a root of that runtime that takes only the values of {@code base}.
	 */
	static CancellableContext createWithTimeout(ContextRuntime runtime, RequestContext base, ContextKind kind,
			Object label, long timeoutNanos) {
		long now = System.nanoTime();
		CancellableContext ctx = new CancellableContext(runtime, base, kind, label, now, true,
				Deadline.afterNanos(now, timeoutNanos), null, false);
		ctx.start();
		return ctx;
	}

	/**
	 * Creates a root of the runtime, as {@link #createWithTimeout} does ({@code Long.MAX_VALUE}
	 * for no deadline), and registers it in the runtime's live contexts. A deadline more than
	 * {@link DeadlineTimer#WATCH_BEYOND_NANOS} away is not handed to the timer: the timer thread
	 * finds it in the live contexts, which it looks through anyway, once it is near. A request
	 * ends long before that, so its deadline costs the request path nothing.
	 */
	static CancellableContext createLive(ContextRuntime runtime, RequestContext base, ContextKind kind,
			Object label, long timeoutNanos) {
		long now = System.nanoTime();
		Deadline deadline = (timeoutNanos == Long.MAX_VALUE) ? null : Deadline.afterNanos(now, timeoutNanos);
		CancellableContext ctx = new CancellableContext(runtime, base, kind, label, now, true, deadline, null, false);
		LiveContexts live = runtime.live();
		if (ctx.timed && timeoutNanos > DeadlineTimer.WATCH_BEYOND_NANOS) {
			// Before the context is published (the registry's lock): the timer reads it there.
			ctx.timerState = DeadlineTimer.WATCHED;
			if (!live.swept) {
				DeadlineTimer.sweep(live);
			}
		}
		else {
			ctx.start();
		}
		live.register(ctx);
		return ctx;
	}

	static CancellableContext createTask(RequestContext base, Object label, OrphanHandler handler,
			boolean survivesCompletion) {
		CancellableContext ctx = new CancellableContext(null, base, ContextKind.TASK, label, System.nanoTime(), true,
				null, handler, survivesCompletion);
		ctx.start();
		return ctx;
	}

	/**
	 * Marks this context's work as done and closes it. For a task, this is what tells a normal
	 * end from an orphaning: a task whose parent completes before {@code finish()} is an orphan.
	 */
	void finish() {
		this.finished = true;
		CancellationHistory.Step step = this.cancelStep;
		if (step != null) {
			step.returned();
		}
		close();
	}

	boolean isFinished() {
		return this.finished;
	}

	/** Called when the parent is cancelled; decides between cascading and orphan handling. */
	void parentCancelled(CancellationCause cause, long atNanos) {
		if (cause == CancellationCause.COMPLETED && this.orphanHandler != null && !this.finished
				&& this.cancellation == null) {
			try {
				this.orphanHandler.orphaned(this);
			}
			catch (Throwable ex) {
				this.runtime.diagnostics.listenerFailed(this, ex);
			}
			if (this.survivesCompletion) {
				return;
			}
		}
		cancel(cause, atNanos);
	}

	private void start() {
		// Link to the parent first, so that a deadline firing at once also unlinks cleanly.
		if (this.parent != null) {
			this.parentLink = this.parent.addChild(this);
		}
		if (this.timed && this.cancellation == null) {
			// Expired when created: compared with the start time rather than a new clock read. A
			// deadline that passes between the two is fired by the timer at once.
			if (this.deadline.nanoTime() - this.startNanos <= 0) {
				cancel(CancellationCause.DEADLINE_EXCEEDED);
			}
			else {
				DeadlineTimer.schedule(this);
			}
		}
	}

	@Override
	CancellableContext scope() {
		return this;
	}

	/**
	 * Binds this context to the calling thread until the returned scope is closed. What
	 * {@link RequestContext#current()} then returns shares this context's deadline, values and
	 * cancellation but is not a {@code CancellableContext}: code that only reads the current
	 * context can never cancel it. Only the holder of this object can.
	 * @return the scope that restores the previous context
	 */
	@Override
	public Scope attach() {
		RequestContext view = this.readOnly;
		if (view == null) {
			view = new RequestContext(this, this.values);
			this.readOnly = view;
		}
		return Scope.attach(view);
	}

	Deadline effectiveDeadline() {
		return this.deadline;
	}

	CancellationCause cancellationCause() {
		return this.cancellation;
	}

	/**
	 * Cancels this context and all its descendants with the given cause. Only the first call
	 * has an effect.
	 * @param cause why the context is cancelled
	 * @return {@code true} if this call cancelled the context, {@code false} if it already was
	 */
	public boolean cancel(CancellationCause cause) {
		if (cause == null) {
			throw new IllegalArgumentException("cause must not be null");
		}
		return cancel(cause, (this.clocked && cause.isFailure()) ? System.nanoTime() : 0);
	}

	/**
	 * Cancels with the time of the cancel already read ({@code 0} if not worth a clock read),
	 * so that a cascade through a tree reads the clock once, at its top.
	 */
	private boolean cancel(CancellationCause cause, long atNanos) {
		CancelNode list;
		synchronized (this) {
			if (this.cancellation != null) {
				return false;
			}
			this.cancelledAtNanos = atNanos;
			this.cancellation = cause;
			list = this.head;
			this.head = null;
		}
		if (this.timed) {
			DeadlineTimer.remove(this);
		}
		ChildLink link = this.parentLink;
		if (link != null) {
			link.unlink();
		}
		CancellationHistory history = null;
		if (this.parent == null && this.kind.isRoot()) {
			if (cause.isFailure()) {
				this.runtime.rootFailed(this, cause);
			}
			if (cause.isFailure() || stopsWork(list)) {
				CancellationHistory h = this.runtime.cancellationHistory;
				if (h != null && h.enter(this, cause)) {
					history = h;
				}
			}
		}
		try {
			fireAll(list, cause, atNanos);
		}
		finally {
			if (history != null) {
				history.exit();
			}
		}
		return true;
	}

	/**
	 * Whether completing with these nodes stops work worth recording (an operation or a child);
	 * listeners alone, as every request has, are not. Keeps a normal completion free of the
	 * record's bookkeeping.
	 */
	private static boolean stopsWork(CancelNode list) {
		for (CancelNode node = list; node != null; node = node.next) {
			if (!(node instanceof ListenerNode)) {
				return true;
			}
		}
		return false;
	}

	private void fireAll(CancelNode list, CancellationCause cause, long atNanos) {
		for (CancelNode node = list; node != null;) {
			CancelNode next = node.next;
			node.owner = null;
			node.prev = null;
			node.next = null;
			if (node.claimFire()) {
				try {
					if (node instanceof ChildLink link) {
						link.fire(cause, atNanos);
					}
					else {
						node.fire(cause);
					}
				}
				catch (Throwable ex) {
					this.runtime.diagnostics.listenerFailed(this, ex);
				}
			}
			node = next;
		}
	}

	/**
	 * Cancels this context with {@link CancellationCause#CANCELLED}.
	 * @return {@code true} if this call cancelled the context
	 */
	public boolean cancel() {
		return cancel(CancellationCause.CANCELLED);
	}

	/**
	 * Ends this context: cancels it with {@link CancellationCause#COMPLETED} (a no-op if it was
	 * already cancelled), which releases its timer and stops leftover children.
	 */
	@Override
	public void close() {
		cancel(CancellationCause.COMPLETED);
	}

	/** Called by the deadline timer, off the timer thread. */
	void expire() {
		cancel(CancellationCause.DEADLINE_EXCEEDED);
	}

	/**
	 * Cancels this context with {@link CancellationCause#DEADLINE_EXCEEDED} if its deadline has
	 * passed and the timer has not got to it yet.
	 * @return {@code true} if this context is cancelled on return
	 */
	boolean expireIfDue() {
		Deadline d = this.deadline;
		if (d == null || !d.isExpired()) {
			return this.cancellation != null;
		}
		// The deadline belongs to the nearest timed ancestor-or-self: expire that one, as the
		// timer would, so every context under it agrees on the cause.
		CancellableContext owner = this;
		while (!owner.timed && owner.parent != null) {
			owner = owner.parent;
		}
		owner.cancel(CancellationCause.DEADLINE_EXCEEDED);
		if (this.cancellation == null) {
			// Another thread is cancelling the owner and has not reached us yet.
			cancel(CancellationCause.DEADLINE_EXCEEDED);
		}
		return true;
	}

	ContextCancelledException newCancelledException(Throwable failure) {
		CancellationCause cause = this.cancellation;
		long elapsed = -1;
		if (this.clocked) {
			long at = this.cancelledAtNanos;
			elapsed = ((at != 0) ? at : System.nanoTime()) - this.startNanos;
		}
		return ContextCancelledException.of(id(), cause, elapsed, failure);
	}

	Registration addListener(Runnable listener) {
		ListenerNode node = new ListenerNode(listener);
		if (!link(node)) {
			runNow(node);
		}
		return node;
	}

	Operation addOperation(String kind, String description, Consumer<CancellationCause> onCancel) {
		OperationNode op = new OperationNode(kind, description, onCancel);
		if (!link(op)) {
			runNow(op);
		}
		return op;
	}

	private ChildLink addChild(CancellableContext child) {
		ChildLink link = new ChildLink(child);
		if (!link(link)) {
			runNow(link);
		}
		return link;
	}

	private void runNow(CancelNode node) {
		if (node.claimFire()) {
			try {
				node.fire(this.cancellation);
			}
			catch (Throwable ex) {
				this.runtime.diagnostics.listenerFailed(this, ex);
			}
		}
	}

	/** Links a node; returns {@code false} (without linking) if already cancelled. */
	private synchronized boolean link(CancelNode node) {
		if (this.cancellation != null) {
			return false;
		}
		node.owner = this;
		CancelNode first = this.head;
		node.next = first;
		if (first != null) {
			first.prev = node;
		}
		this.head = node;
		return true;
	}

	synchronized void removeNode(CancelNode node) {
		if (node.owner != this) {
			return; // already unlinked, or the list was taken by cancel()
		}
		CancelNode prev = node.prev;
		CancelNode next = node.next;
		if (prev != null) {
			prev.next = next;
		}
		else {
			this.head = next;
		}
		if (next != null) {
			next.prev = prev;
		}
		node.owner = null;
		node.prev = null;
		node.next = null;
	}

	/**
	 * Returns this context's id, unique in this JVM.
	 * @return the id
	 */
	@Override
	public String id() {
		String s = this.idString;
		if (s == null) {
			s = Long.toHexString(sequence());
			this.idString = s;
		}
		return s;
	}

	long sequence() {
		long id = (long) ID.getAcquire(this);
		if (id != 0) {
			return id;
		}
		long fresh = IDS.incrementAndGet();
		long witness = (long) ID.compareAndExchange(this, 0L, fresh);
		return (witness == 0) ? fresh : witness;
	}

	/**
	 * Returns what this context stands for.
	 * @return the kind
	 */
	public ContextKind kind() {
		return this.kind;
	}

	Object label() {
		return this.label;
	}

	CancellableContext parent() {
		return this.parent;
	}

	/**
	 * Returns how long this context has existed.
	 * @return the age in nanoseconds; {@code 0} for a scope made with {@code withCancel()} on a
	 * context that is not cancellable (such as the root), whose start is not recorded
	 */
	public long ageNanos() {
		if (!this.clocked) {
			return 0;
		}
		return System.nanoTime() - this.startNanos;
	}

	long startNanos() {
		return this.startNanos;
	}

	Thread thread() {
		return this.thread;
	}

	void runningOn(Thread thread) {
		this.thread = thread;
	}

	void transport(Object transport) {
		TRANSPORT.setRelease(this, transport);
	}

	Object transport() {
		return TRANSPORT.getAcquire(this);
	}

	ContextTree snapshot() {
		List<CancellableContext> children = new ArrayList<>();
		List<OperationNode> operations = new ArrayList<>();
		synchronized (this) {
			for (CancelNode node = this.head; node != null; node = node.next) {
				if (node instanceof ChildLink link) {
					children.add(link.child);
				}
				else if (node instanceof OperationNode op) {
					operations.add(op);
				}
			}
		}
		List<ContextTree> childSnapshots = new ArrayList<>(children.size());
		for (int i = children.size() - 1; i >= 0; i--) {
			childSnapshots.add(children.get(i).snapshot());
		}
		List<ContextTree.OperationView> operationSnapshots = new ArrayList<>(operations.size());
		for (int i = operations.size() - 1; i >= 0; i--) {
			OperationNode op = operations.get(i);
			operationSnapshots.add(new ContextTree.OperationView(op.kind(), op.description(),
					op.ageMillis(), op.threadName(), op.wasCancelled()));
		}
		Thread t = this.thread;
		Deadline d = this.deadline;
		return new ContextTree(id(), this.kind, this.label,
				TimeUnit.NANOSECONDS.toMillis(ageNanos()),
				(d != null) ? Math.max(0, TimeUnit.NANOSECONDS.toMillis(d.remainingNanos())) : null,
				this.cancellation, (t != null) ? t.getName() : null, values(), childSnapshots, operationSnapshots);
	}

	/** Returns a copy of the live child contexts, oldest first. */
	List<CancellableContext> children() {
		List<CancellableContext> children = new ArrayList<>();
		synchronized (this) {
			for (CancelNode node = this.head; node != null; node = node.next) {
				if (node instanceof ChildLink link) {
					children.add(link.child);
				}
			}
		}
		// The list is newest first.
		Collections.reverse(children);
		return children;
	}

	CancellableContext findById(String id) {
		if (id.equals(id())) {
			return this;
		}
		for (CancellableContext child : children()) {
			CancellableContext found = child.findById(id);
			if (found != null) {
				return found;
			}
		}
		return null;
	}

	@Override
	public String toString() {
		return "CancellableContext[id=" + id() + ", kind=" + this.kind
				+ ((this.label != null) ? ", label=" + this.label : "")
				+ ((this.cancellation != null) ? ", cancelled=" + this.cancellation : "") + "]";
	}

	/** A listener registered with {@code onCancel}. */
	private static final class ListenerNode extends CancelNode implements Registration {

		private final Runnable listener;

		ListenerNode(Runnable listener) {
			this.listener = listener;
		}

		@Override
		void fire(CancellationCause cause) {
			this.listener.run();
		}

		@Override
		public boolean remove() {
			return unlink();
		}

	}

	/** A child context in its parent's list. */
	private static final class ChildLink extends CancelNode {

		final CancellableContext child;

		ChildLink(CancellableContext child) {
			this.child = child;
		}

		@Override
		void fire(CancellationCause cause) {
			fire(cause, 0);
		}

		void fire(CancellationCause cause, long atNanos) {
			if (this.child.kind == ContextKind.TASK && !this.child.finished) {
				this.child.cancelStep = CancellationHistory.signalled(this.child);
			}
			this.child.parentCancelled(cause, atNanos);
		}

	}

}
