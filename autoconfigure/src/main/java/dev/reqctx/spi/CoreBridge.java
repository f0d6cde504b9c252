package dev.reqctx.spi;

import java.util.List;
import java.util.function.Consumer;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.ContextKey;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.Deadline;
import dev.reqctx.RequestContext;

/**
 * How this package reaches the core's package-private plumbing. The core installs its one
 * implementation when it is loaded; nothing else can, and its methods are reachable only from
 * this package, so the user-facing types stay small while {@link Contexts} serves integrations.
 * Not for use by applications.
 */
public abstract class CoreBridge {

	private static final String IMPLEMENTATION = "dev.reqctx.SpiBridge";

	private static volatile CoreBridge instance;

	/** For the core's implementation only. */
	protected CoreBridge() {
		if (!getClass().getName().equals(IMPLEMENTATION)) {
			throw new IllegalStateException("Only the reqctx core implements " + CoreBridge.class.getName());
		}
	}

	/**
	 * Installs the core's bridge; called once, when the core is loaded.
	 * @param bridge the core's implementation
	 */
	protected static synchronized void install(CoreBridge bridge) {
		if (instance != null) {
			throw new IllegalStateException("The reqctx core bridge is already installed");
		}
		instance = bridge;
	}

	static CoreBridge get() {
		CoreBridge bridge = instance;
		if (bridge == null) {
			RequestContext.root(); // loading the core installs the bridge
			bridge = instance;
		}
		return bridge;
	}

	protected abstract CancellableContext newChild(RequestContext parent, ContextKind kind, Object label,
			Deadline deadline);

	protected abstract CancellableContext newChild(RequestContext parent, ContextKind kind, Object label,
			long timeoutNanos);

	protected abstract CancellableContext newRoot(ContextRuntime runtime, RequestContext values, ContextKind kind,
			Object label, long timeoutNanos);

	protected abstract CancellableContext newLiveRoot(ContextRuntime runtime, RequestContext values,
			ContextKind kind, Object label, long timeoutNanos);

	protected abstract AutoCloseable watchAge(ContextRuntime runtime, long ageNanos, Runnable action);

	protected abstract <T> ContextKey<T> hiddenKey(String name);

	protected abstract void addRootFailureListener(ContextRuntime runtime, RootFailureListener listener);

	protected abstract CancellableContext newTask(RequestContext parent, Object label, OrphanHandler handler,
			boolean keepRunningWhenOrphaned);

	protected abstract Operation startOperation(RequestContext context, String kind, String description,
			Consumer<CancellationCause> onCancel);

	protected abstract ContextCancelledException cancellationException(RequestContext context, Throwable failure);

	protected abstract CancellableContext cancellable(RequestContext context);

	protected abstract CancellableContext nearest(RequestContext context, ContextKind kind);

	protected abstract ContextRuntime runtime(RequestContext context);

	protected abstract void register(CancellableContext context);

	protected abstract void unregister(CancellableContext context);

	protected abstract void runningOn(CancellableContext context, Thread thread);

	protected abstract Thread thread(CancellableContext context);

	protected abstract void transport(CancellableContext context, Object transport);

	protected abstract Object transport(CancellableContext context);

	protected abstract long startNanos(CancellableContext context);

	protected abstract Object label(CancellableContext context);

	protected abstract CancellableContext parent(CancellableContext context);

	protected abstract List<CancellableContext> children(CancellableContext context);

	protected abstract ContextTree tree(CancellableContext context);

	protected abstract void finish(CancellableContext context);

	protected abstract boolean isFinished(CancellableContext context);

	protected abstract <T> T extension(ContextRuntime runtime, Class<T> type);

	protected abstract <T> void setExtension(ContextRuntime runtime, Class<T> type, T value);

}
