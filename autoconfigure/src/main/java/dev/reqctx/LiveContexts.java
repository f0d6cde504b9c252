package dev.reqctx;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The live root contexts of one {@link ContextRuntime}: every request in flight, from the moment
 * the filter creates its context until the request ends. Read it with {@link #list()},
 * {@link #find(String)} and {@link #size()}; only integrations add and remove entries (through
 * {@link dev.reqctx.spi.Contexts#register(CancellableContext)}).
 *
 * <p>Registration is on the path of every request, so it is cheap. A platform thread's first
 * root goes to the thread's own home (one volatile write on memory the thread just touched, and
 * one compare-and-set to leave it); any other root (the thread's home is taken, or it is a
 * virtual thread) goes to one of the stripes, intrusive doubly linked lists under a lock each,
 * of which the contexts themselves are the entries. Adding and removing are O(1) and allocate
 * nothing; listing and lookup by id walk every home and entry, which is fine for an operator's
 * request and for the timer's look.
 */
public final class LiveContexts {

	private static final int STRIPE_BITS = 4;

	private static final int STRIPES = 1 << STRIPE_BITS;

	private final Stripe[] table = new Stripe[STRIPES];

	/** Set once the deadline timer's thread looks through this registry on every look. */
	volatile boolean swept;

	/** Told, from the timer's thread, when a request is older than its age. */
	private final List<AgeWatch> ageWatches = new CopyOnWriteArrayList<>();

	LiveContexts() {
		for (int i = 0; i < STRIPES; i++) {
			this.table[i] = new Stripe();
		}
	}

	/** Adds a context to the registry. Adding a context twice has no effect. */
	void register(CancellableContext ctx) {
		if (ctx.registered) {
			return;
		}
		Home home = Home.ofCurrentThread();
		if (home != null && home.root == null) {
			// Only this thread fills its home, and only while it is empty: no other thread can
			// fill it between the read and the write. The volatile write publishes the context
			// (and its timer state) to the readers, and orders it before the read of the timer's
			// parked flag below, as the stripe's lock does.
			ctx.registered = true;
			ctx.home = home;
			home.root = ctx;
		}
		else {
			Stripe stripe = stripeOf(ctx);
			synchronized (stripe) {
				if (ctx.registered) {
					return;
				}
				ctx.registered = true;
				CancellableContext first = stripe.head;
				ctx.registryNext = first;
				if (first != null) {
					first.registryPrev = ctx;
				}
				stripe.head = ctx;
				stripe.size++;
			}
		}
		if (this.swept) {
			DeadlineTimer.registered();
		}
	}

	/** Removes a context from the registry; a context that is not registered is ignored. */
	void unregister(CancellableContext ctx) {
		Home home = ctx.home;
		if (home != null) {
			// Any thread may empty a home (an async request ends on another one), once.
			if (!Home.ROOT.compareAndSet(home, ctx, null)) {
				return;
			}
			ctx.home = null;
			ctx.registered = false;
		}
		else {
			Stripe stripe = stripeOf(ctx);
			synchronized (stripe) {
				if (!ctx.registered) {
					return;
				}
				ctx.registered = false;
				CancellableContext prev = ctx.registryPrev;
				CancellableContext next = ctx.registryNext;
				if (prev != null) {
					prev.registryNext = next;
				}
				else {
					stripe.head = next;
				}
				if (next != null) {
					next.registryPrev = prev;
				}
				ctx.registryPrev = null;
				ctx.registryNext = null;
				stripe.size--;
			}
		}
		if (ctx.cancellationCause() == null) {
			// Left without being cancelled: its deadline can no longer be found here.
			DeadlineTimer.unregistered(ctx);
		}
	}

	/**
	 * Asks to be told, from the deadline timer's thread, whenever one of its looks finds a
	 * request older than {@code ageNanos} that is not cancelled. The action must be quick and
	 * must not block (it runs on the thread that fires deadlines).
	 * @return removes the watch
	 */
	AutoCloseable watchAge(long ageNanos, Runnable action) {
		AgeWatch watch = new AgeWatch(ageNanos, action);
		this.ageWatches.add(watch);
		DeadlineTimer.sweep(this);
		return () -> this.ageWatches.remove(watch);
	}

	/**
	 * One look of the deadline timer's thread: offers every context to the timer (see
	 * {@link DeadlineTimer#offer}) and tells the age watches.
	 * @return whether anything is registered
	 */
	boolean sweep(long now, long horizon) {
		boolean any = false;
		boolean aged = !this.ageWatches.isEmpty();
		long oldest = -1; // the age of the oldest request not cancelled, -1 for none
		for (Home home : Home.all) {
			CancellableContext c = rootOf(home);
			if (c != null) {
				any = true;
				DeadlineTimer.offer(c, horizon);
				if (aged && c.kind() == ContextKind.REQUEST && c.cancellationCause() == null) {
					oldest = Math.max(oldest, now - c.startNanos());
				}
			}
		}
		for (Stripe stripe : this.table) {
			synchronized (stripe) {
				for (CancellableContext c = stripe.head; c != null; c = c.registryNext) {
					any = true;
					DeadlineTimer.offer(c, horizon);
					if (aged && c.kind() == ContextKind.REQUEST && c.cancellationCause() == null) {
						oldest = Math.max(oldest, now - c.startNanos());
					}
				}
			}
		}
		if (oldest >= 0) {
			for (AgeWatch watch : this.ageWatches) {
				if (oldest >= watch.ageNanos) {
					try {
						watch.action.run();
					}
					catch (RuntimeException ex) {
						// The watcher's own business; the timer keeps firing deadlines.
					}
				}
			}
		}
		return any;
	}

	/**
	 * Returns whether no context is registered; stops at the first stripe that holds one, so it
	 * is cheaper than {@code size() == 0} while requests are in flight.
	 * @return {@code true} if nothing is in flight
	 */
	public boolean isEmpty() {
		for (Home home : Home.all) {
			CancellableContext c = rootOf(home);
			if (c != null) {
				return false;
			}
		}
		for (Stripe stripe : this.table) {
			synchronized (stripe) {
				if (stripe.size > 0) {
					return false;
				}
			}
		}
		return true;
	}

	/**
	 * Returns the number of registered contexts.
	 * @return the count
	 */
	public int size() {
		int total = 0;
		for (Home home : Home.all) {
			CancellableContext c = rootOf(home);
			if (c != null) {
				total++;
			}
		}
		for (Stripe stripe : this.table) {
			synchronized (stripe) {
				total += stripe.size;
			}
		}
		return total;
	}

	/**
	 * Calls the action for every registered context. The action must not block: each stripe
	 * is locked while it is visited.
	 * @param action the action
	 */
	public void forEach(Consumer<CancellableContext> action) {
		List<CancellableContext> housed = new ArrayList<>();
		for (Home home : Home.all) {
			CancellableContext c = rootOf(home);
			if (c != null) {
				housed.add(c);
			}
		}
		housed.forEach(action);
		for (Stripe stripe : this.table) {
			List<CancellableContext> copy;
			synchronized (stripe) {
				copy = new ArrayList<>(stripe.size);
				for (CancellableContext c = stripe.head; c != null; c = c.registryNext) {
					copy.add(c);
				}
			}
			copy.forEach(action);
		}
	}

	/**
	 * Returns all registered contexts.
	 * @return a copy of the registry's contents
	 */
	public List<CancellableContext> list() {
		List<CancellableContext> result = new ArrayList<>();
		forEach(result::add);
		return result;
	}

	/**
	 * Finds a registered context, or a descendant of one, by id.
	 * @param id the context id
	 * @return the context, or {@code null}
	 */
	public CancellableContext find(String id) {
		if (id == null) {
			return null;
		}
		List<CancellableContext> roots = list();
		for (CancellableContext root : roots) {
			if (id.equals(root.id())) {
				return root;
			}
		}
		for (CancellableContext root : roots) {
			CancellableContext found = root.findById(id);
			if (found != null) {
				return found;
			}
		}
		return null;
	}

	/** The root living in a home, if it is registered here (homes are shared by every runtime). */
	private CancellableContext rootOf(Home home) {
		CancellableContext c = home.root;
		return (c != null && c.runtime.live() == this) ? c : null;
	}

	private Stripe stripeOf(CancellableContext ctx) {
		// From the start time, which every registered root has and which never changes: spread
		// by a multiplicative hash, so two requests started apart land on different stripes. Not
		// from the id, which would be assigned here (two atomic operations per request) while
		// most requests are never shown to anyone.
		long start = ctx.startNanos;
		if (start == 0) {
			return this.table[(int) ctx.sequence() & (STRIPES - 1)];
		}
		return this.table[(int) ((start * 0x9E3779B97F4A7C15L) >>> (64 - STRIPE_BITS))];
	}

	private record AgeWatch(long ageNanos, Runnable action) {
	}

	/**
	 * A platform thread's place for one root it registered: most threads run one request at a
	 * time, and registering it there and removing it again touch only the thread's own memory
	 * (a volatile write and a compare-and-set) instead of a shared stripe's lock (four atomic
	 * operations on a line the other threads' requests also write). A thread whose home is
	 * taken (by an async request still in flight, or a root started inside another) uses the
	 * stripes. Virtual threads have none: a home each would grow the list of homes per request.
	 */
	static final class Home {

		static final VarHandle ROOT;

		private static final MethodHandle IS_VIRTUAL;

		static {
			try {
				ROOT = MethodHandles.lookup().findVarHandle(Home.class, "root", CancellableContext.class);
			}
			catch (ReflectiveOperationException ex) {
				throw new ExceptionInInitializerError(ex);
			}
			MethodHandle isVirtual;
			try {
				isVirtual = MethodHandles.publicLookup()
					.findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
			}
			catch (ReflectiveOperationException ex) {
				isVirtual = null; // Java 17 to 20: no virtual threads
			}
			IS_VIRTUAL = isVirtual;
		}

		/** Marks a thread that gets no home. */
		private static final Home NONE = new Home(null);

		/** Every home whose thread is alive or that holds a root; replaced, never changed. */
		static volatile Home[] all = new Home[0];

		/** The registered root living here, or {@code null}; set only by the home's thread. */
		volatile CancellableContext root;

		private final WeakReference<Thread> thread;

		private Home(Thread thread) {
			this.thread = new WeakReference<>(thread);
		}

		/** Returns the current thread's home, making it on first use; {@code null} for none. */
		static Home ofCurrentThread() {
			Scope.Binding binding = Scope.bindingOfCurrentThread();
			Home home = binding.home;
			if (home == null) {
				Thread thread = Thread.currentThread();
				home = isVirtual(thread) ? NONE : add(new Home(thread));
				binding.home = home;
			}
			return (home != NONE) ? home : null;
		}

		private static boolean isVirtual(Thread thread) {
			if (IS_VIRTUAL == null) {
				return false;
			}
			try {
				return (boolean) IS_VIRTUAL.invokeExact(thread);
			}
			catch (Throwable ex) {
				return true; // cannot tell: the stripes work for every thread
			}
		}

		private static synchronized Home add(Home home) {
			// Drops the homes of threads that ended with nothing in them, so that a pool that
			// replaces its threads does not grow the list: a new thread is the only writer.
			List<Home> kept = new ArrayList<>(all.length + 1);
			for (Home h : all) {
				Thread t = h.thread.get();
				if (h.root != null || (t != null && t.isAlive())) {
					kept.add(h);
				}
			}
			kept.add(home);
			all = kept.toArray(new Home[0]);
			return home;
		}

	}

	private static final class Stripe {

		CancellableContext head;

		int size;

	}

}
