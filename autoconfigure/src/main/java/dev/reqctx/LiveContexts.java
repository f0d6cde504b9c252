package dev.reqctx;

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
 * <p>Registration is on the path of every request, so it is cheap: the contexts themselves are
 * the entries of intrusive doubly linked lists, spread over stripes so that threads rarely
 * contend. Adding and removing are O(1) and allocate nothing; listing and lookup by id walk
 * every entry, which is fine for an operator's request.
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
		if (this.swept) {
			DeadlineTimer.registered();
		}
	}

	/** Removes a context from the registry; a context that is not registered is ignored. */
	void unregister(CancellableContext ctx) {
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

	private static final class Stripe {

		CancellableContext head;

		int size;

	}

}
