package dev.reqctx;

import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

import dev.reqctx.spi.ContextTree;
import dev.reqctx.spi.CoreBridge;
import dev.reqctx.spi.Operation;
import dev.reqctx.spi.OrphanHandler;
import dev.reqctx.spi.RootFailureListener;

/** The core side of {@link CoreBridge}: plain delegation to package-private members. */
final class SpiBridge extends CoreBridge {

	private SpiBridge() {
	}

	static void install() {
		CoreBridge.install(new SpiBridge());
	}

	@Override
	protected CancellableContext newChild(RequestContext parent, ContextKind kind, Object label, Deadline deadline) {
		return parent.newChild(kind, label, deadline);
	}

	@Override
	protected CancellableContext newChild(RequestContext parent, ContextKind kind, Object label, long timeoutNanos) {
		Objects.requireNonNull(kind, "kind must not be null");
		return CancellableContext.createWithTimeout(null, parent, kind, label, timeoutNanos);
	}

	@Override
	protected CancellableContext newRoot(ContextRuntime runtime, RequestContext values, ContextKind kind,
			Object label, long timeoutNanos) {
		Objects.requireNonNull(runtime, "runtime must not be null");
		Objects.requireNonNull(kind, "kind must not be null");
		if (timeoutNanos == Long.MAX_VALUE) {
			return CancellableContext.createRoot(runtime, values, kind, label, null);
		}
		return CancellableContext.createWithTimeout(runtime, values, kind, label, timeoutNanos);
	}

	@Override
	protected CancellableContext newLiveRoot(ContextRuntime runtime, RequestContext values, ContextKind kind,
			Object label, long timeoutNanos) {
		Objects.requireNonNull(runtime, "runtime must not be null");
		Objects.requireNonNull(kind, "kind must not be null");
		return CancellableContext.createLive(runtime, values, kind, label, timeoutNanos);
	}

	@Override
	protected AutoCloseable watchAge(ContextRuntime runtime, long ageNanos, Runnable action) {
		Objects.requireNonNull(action, "action must not be null");
		return runtime.live().watchAge(ageNanos, action);
	}

	@Override
	protected <T> ContextKey<T> hiddenKey(String name) {
		return ContextKey.hidden(name);
	}

	@Override
	protected void addRootFailureListener(ContextRuntime runtime, RootFailureListener listener) {
		Objects.requireNonNull(runtime, "runtime must not be null");
		runtime.addRootFailureListener(Objects.requireNonNull(listener, "listener must not be null"));
	}

	@Override
	protected CancellableContext newTask(RequestContext parent, Object label, OrphanHandler handler,
			boolean keepRunningWhenOrphaned) {
		return parent.newTask(label, handler, keepRunningWhenOrphaned);
	}

	@Override
	protected Operation startOperation(RequestContext context, String kind, String description,
			Consumer<CancellationCause> onCancel) {
		return context.startOperation(kind, description, onCancel);
	}

	@Override
	protected ContextCancelledException cancellationException(RequestContext context, Throwable failure) {
		return context.cancellationException(failure);
	}

	@Override
	protected CancellableContext cancellable(RequestContext context) {
		return context.scope();
	}

	@Override
	protected CancellableContext nearest(RequestContext context, ContextKind kind) {
		return context.nearest(kind);
	}

	@Override
	protected ContextRuntime runtime(RequestContext context) {
		CancellableContext s = context.scope();
		return (s != null) ? s.runtime : ContextRuntime.global();
	}

	@Override
	protected void register(CancellableContext context) {
		context.runtime.live().register(context);
	}

	@Override
	protected void unregister(CancellableContext context) {
		context.runtime.live().unregister(context);
	}

	@Override
	protected void runningOn(CancellableContext context, Thread thread) {
		context.runningOn(thread);
	}

	@Override
	protected Thread thread(CancellableContext context) {
		return context.thread();
	}

	@Override
	protected void transport(CancellableContext context, Object transport) {
		context.transport(transport);
	}

	@Override
	protected Object transport(CancellableContext context) {
		return context.transport();
	}

	@Override
	protected long startNanos(CancellableContext context) {
		return context.startNanos();
	}

	@Override
	protected Object label(CancellableContext context) {
		return context.label();
	}

	@Override
	protected CancellableContext parent(CancellableContext context) {
		return context.parent();
	}

	@Override
	protected List<CancellableContext> children(CancellableContext context) {
		return context.children();
	}

	@Override
	protected ContextTree tree(CancellableContext context) {
		return context.snapshot();
	}

	@Override
	protected void finish(CancellableContext context) {
		context.finish();
	}

	@Override
	protected boolean isFinished(CancellableContext context) {
		return context.isFinished();
	}

	@Override
	protected <T> T extension(ContextRuntime runtime, Class<T> type) {
		return runtime.extension(type);
	}

	@Override
	protected <T> void setExtension(ContextRuntime runtime, Class<T> type, T value) {
		runtime.setExtension(type, value);
	}

}
