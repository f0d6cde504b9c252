package dev.reqctx;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import dev.reqctx.spi.CancellationHistory;
import dev.reqctx.spi.RootFailureListener;

import dev.reqctx.spi.OrphanHistory;

/**
 * The reqctx state of one application: its live contexts, its history of orphaned work and its
 * diagnostics. In a Spring application it is a bean, one per application context, so two
 * applications in one JVM (common in test suites) never see each other's requests.
 *
 * <p>A root context belongs to the runtime it was started in, and every context derived from it
 * belongs to the same one. Code outside Spring, and contexts derived from
 * {@link RequestContext#root()}, use the {@linkplain #global() global runtime}.
 *
 * <pre>
 * ContextRuntime runtime = applicationContext.getBean(ContextRuntime.class);
 * assertThat(runtime.live().size()).isZero(); // no request left in flight
 * </pre>
 */
public final class ContextRuntime {

	/** How many orphans a runtime remembers unless told otherwise. */
	public static final int DEFAULT_ORPHAN_HISTORY = 50;

	private static final ContextRuntime GLOBAL = new ContextRuntime("global", DEFAULT_ORPHAN_HISTORY, false);

	private final String name;

	private final LiveContexts live = new LiveContexts();

	private final OrphanHistory orphans;

	final ContextDiagnostics diagnostics;

	/** The cancellation record, read at every root's cancel: a field, not a map lookup. */
	volatile CancellationHistory cancellationHistory;

	/** Told of every root cancelled by a failure; copied on write, read at every such cancel. */
	private volatile RootFailureListener[] rootFailureListeners = new RootFailureListener[0];

	/** Per-runtime state of integrations (the task wrapper's settings), by type. */
	private final ConcurrentMap<Class<?>, Object> extensions = new ConcurrentHashMap<>();

	/**
	 * Creates a runtime.
	 * @param name what to call it in logs (the application's name)
	 * @param orphanHistory how many orphaned tasks to remember, at least 1
	 * @param strict whether to capture the stack of every attach, so that misuse reports say
	 * where a scope was opened (costly: for tests and leak hunting)
	 */
	public ContextRuntime(String name, int orphanHistory, boolean strict) {
		this.name = Objects.requireNonNull(name, "name must not be null");
		this.orphans = new OrphanHistory(orphanHistory);
		this.diagnostics = new ContextDiagnostics(strict);
	}

	/**
	 * Returns the runtime of code outside an application context, and of contexts derived from
	 * the root.
	 * @return the global runtime
	 */
	public static ContextRuntime global() {
		return GLOBAL;
	}

	/**
	 * Returns this runtime's name.
	 * @return the name
	 */
	public String name() {
		return this.name;
	}

	/**
	 * Returns the live root contexts of this runtime.
	 * @return the registry of requests (and other roots) in flight
	 */
	public LiveContexts live() {
		return this.live;
	}

	/**
	 * Returns the work that outlived its request in this runtime, most recent first.
	 * @return the orphan history
	 */
	public OrphanHistory orphans() {
		return this.orphans;
	}

	/**
	 * Returns this runtime's misuse reports and counts.
	 * @return the diagnostics
	 */
	public ContextDiagnostics diagnostics() {
		return this.diagnostics;
	}

	/**
	 * Describes a unit of work of this runtime, started with {@link UnitOfWork.Builder#start()}:
	 * a root of the live tree with a deadline, an operator's cancel and orphan reports, like a
	 * request.
	 * <pre>
	 * try (UnitOfWork work = runtime.work("rebuild-index").timeout(Duration.ofMinutes(2)).start()) {
	 *     indexer.rebuild();
	 * }
	 * </pre>
	 * @param name what to call the work in the live tree, meters and logs
	 * @return a builder for the unit of work
	 */
	public UnitOfWork.Builder work(String name) {
		Objects.requireNonNull(name, "name must not be null");
		if (name.isBlank()) {
			throw new IllegalArgumentException("name must not be blank");
		}
		return new UnitOfWork.Builder(this, name);
	}

	/** Adds a listener once: adding one already there does nothing. */
	synchronized void addRootFailureListener(RootFailureListener listener) {
		RootFailureListener[] current = this.rootFailureListeners;
		for (RootFailureListener existing : current) {
			if (existing == listener) {
				return;
			}
		}
		RootFailureListener[] grown = Arrays.copyOf(current, current.length + 1);
		grown[current.length] = listener;
		this.rootFailureListeners = grown;
	}

	/** Tells the listeners of a root's failure; one that throws does not stop the cancel. */
	void rootFailed(CancellableContext root, CancellationCause cause) {
		for (RootFailureListener listener : this.rootFailureListeners) {
			try {
				listener.rootFailed(root, cause);
			}
			catch (Throwable ex) {
				// Counted and logged as the failure of a cancel listener, which it replaces.
				this.diagnostics.listenerFailed(root, ex);
			}
		}
	}

	@SuppressWarnings("unchecked")
	<T> T extension(Class<T> type) {
		return (T) this.extensions.get(type);
	}

	<T> void setExtension(Class<T> type, T value) {
		this.extensions.put(type, value);
		if (type == CancellationHistory.class) {
			this.cancellationHistory = (CancellationHistory) value;
		}
	}

	@Override
	public String toString() {
		return "ContextRuntime[" + this.name + "]";
	}

}
