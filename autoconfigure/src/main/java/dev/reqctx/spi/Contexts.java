package dev.reqctx.spi;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
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
 * What integrations need from the core beyond the user-facing API: contexts of a given kind
 * that show in the live tree, tracked operations, and the bookkeeping of the tree (which thread
 * runs a context, its children, a snapshot for display). Applications use
 * {@link RequestContext} and {@link CancellableContext}; this is for code that connects a
 * framework to reqctx, like the servlet filter, the JDBC wrappers and the executor wrappers.
 */
public final class Contexts {

	private static final CoreBridge CORE = CoreBridge.get();

	private Contexts() {
	}

	/**
	 * Returns a cancellable child of the given kind (the filter creates a
	 * {@link ContextKind#REQUEST}, executors a {@link ContextKind#TASK}).
	 * @param parent the parent context
	 * @param kind what the child stands for
	 * @param label what to show for it in the tree ({@code toString()} is called when shown)
	 * @param deadline the child's own deadline on the system ticker, or {@code null} to inherit
	 * the parent's
	 * @return the child
	 * @throws IllegalArgumentException if the deadline reads another ticker
	 */
	public static CancellableContext newChild(RequestContext parent, ContextKind kind, Object label,
			Deadline deadline) {
		return CORE.newChild(parent, kind, label, deadline);
	}

	/**
	 * Returns a cancellable child of the given kind whose own deadline is the given time after
	 * its creation (or the parent's deadline, if earlier). Cheaper than
	 * {@code newChild(parent, kind, label, Deadline.after(timeout, unit))}: one clock read, not
	 * two.
	 * @param parent the parent context
	 * @param kind what the child stands for
	 * @param label what to show for it in the tree
	 * @param timeout how long the child may run; zero or less gives a child that is already
	 * cancelled with {@link CancellationCause#DEADLINE_EXCEEDED}
	 * @param unit the unit of {@code timeout}
	 * @return the child
	 */
	public static CancellableContext newChild(RequestContext parent, ContextKind kind, Object label, long timeout,
			TimeUnit unit) {
		return CORE.newChild(parent, kind, label, unit.toNanos(timeout));
	}

	/**
	 * Returns a new root context of the given runtime: it has no parent (it takes only the
	 * values of {@code values}), its deadline is the given time after its creation, and
	 * everything derived from it belongs to that runtime. Register it with
	 * {@link #register(CancellableContext)} to show it in the live tree.
	 * @param runtime the application the work belongs to
	 * @param values the values the root starts with (for example the request id)
	 * @param kind what the root stands for
	 * @param label what to show for it in the tree
	 * @param timeout how long it may run; {@link Long#MAX_VALUE} (in any unit) for a root with no
	 * deadline, which only a cancel ends early
	 * @param unit the unit of {@code timeout}
	 * @return the root
	 */
	public static CancellableContext newRoot(ContextRuntime runtime, RequestContext values, ContextKind kind,
			Object label, long timeout, TimeUnit unit) {
		// TimeUnit.toNanos saturates, so Long.MAX_VALUE stays "no deadline" in every unit.
		return CORE.newRoot(runtime, values, kind, label, unit.toNanos(timeout));
	}

	/**
	 * Returns a new root context of the given runtime, as {@link #newRoot} does, already
	 * {@linkplain #register(CancellableContext) registered} in its live tree: the way to start
	 * a request. A deadline more than a few hundred milliseconds away then costs nothing until
	 * it is near: the timer finds it in the live tree, which its thread looks through anyway,
	 * instead of being handed every request's deadline. Unregister the root when its work ends.
	 * @param runtime the application the work belongs to
	 * @param values the values the root starts with (for example the request id)
	 * @param kind what the root stands for
	 * @param label what to show for it in the tree
	 * @param timeout how long it may run; {@link Long#MAX_VALUE} (in any unit) for no deadline
	 * @param unit the unit of {@code timeout}
	 * @return the registered root
	 */
	public static CancellableContext newLiveRoot(ContextRuntime runtime, RequestContext values, ContextKind kind,
			Object label, long timeout, TimeUnit unit) {
		return CORE.newLiveRoot(runtime, values, kind, label, unit.toNanos(timeout));
	}

	/**
	 * Asks to be told when a {@link ContextKind#REQUEST} root of the runtime's live tree, not
	 * cancelled, is older than {@code age}: the timer's thread, which looks through the live
	 * tree every 100 ms while anything is in flight, runs the action after each look that finds
	 * one. A watcher that only cares about long requests (the client-gone detector) need not wake
	 * up itself while all requests are short. The action must be quick and must not block.
	 * @param runtime the application whose requests to watch
	 * @param age the age from which a request is reported
	 * @param action what to run, on the timer's thread
	 * @return closing it removes the watch
	 */
	public static AutoCloseable watchAge(ContextRuntime runtime, Duration age, Runnable action) {
		Objects.requireNonNull(runtime, "runtime must not be null");
		return CORE.watchAge(runtime, age.toNanos(), action);
	}

	/**
	 * Returns a new key whose values are left out of {@link RequestContext#values()}, so out of
	 * the live tree and the actuator endpoint: for an integration's own objects (the tracing one
	 * keeps the request's span in its context), readable only by the holder of the key.
	 * @param name what to call it when debugging
	 * @param <T> the type of the value
	 * @return a new key, distinct from every other key
	 */
	public static <T> ContextKey<T> hiddenKey(String name) {
		return CORE.hiddenKey(name);
	}

	/**
	 * Tells a listener of every root of the runtime that is cancelled by a failure (see
	 * {@link RootFailureListener}). Adding the same listener again does nothing, so an
	 * integration can add a shared listener from its request path.
	 * @param runtime the application
	 * @param listener the listener
	 */
	public static void addRootFailureListener(ContextRuntime runtime, RootFailureListener listener) {
		CORE.addRootFailureListener(runtime, listener);
	}

	/**
	 * Returns a child that stands for a task forked from the parent onto another thread. It is
	 * cancelled with the parent, except that when the parent <em>completes</em> while the task
	 * has not {@linkplain #finish(CancellableContext) finished}, the task is an orphan: the
	 * handler is told, and the task is then cancelled with {@link CancellationCause#COMPLETED},
	 * or left running if {@code keepRunningWhenOrphaned}.
	 * @param parent the submitting context
	 * @param label what to show for the task in the tree
	 * @param orphanHandler told about orphaning, on the thread that completes the parent
	 * @param keepRunningWhenOrphaned whether an orphan keeps running instead of being cancelled
	 * @return the task's context
	 */
	public static CancellableContext newTask(RequestContext parent, Object label, OrphanHandler orphanHandler,
			boolean keepRunningWhenOrphaned) {
		return CORE.newTask(parent, label, orphanHandler, keepRunningWhenOrphaned);
	}

	/**
	 * Starts tracking an operation under a context: it shows in the live tree until closed, and
	 * {@code onCancel} runs (once, on the cancelling thread) if the context is cancelled first.
	 * If the context is already cancelled, {@code onCancel} runs at once. Outside any
	 * cancellable context this returns {@link Operation#UNTRACKED}.
	 * @param context the context the operation runs under
	 * @param kind the kind of operation, for example {@code "jdbc"}
	 * @param description what to show an operator; never secrets or bind values
	 * @param onCancel how to stop the operation, may be {@code null}
	 * @return the operation; close it when the work returns
	 */
	public static Operation startOperation(RequestContext context, String kind, String description,
			Consumer<CancellationCause> onCancel) {
		return CORE.startOperation(context, kind, description, onCancel);
	}

	/**
	 * Returns the exception that describes a context's cancellation, wrapping the failure the
	 * cancellation caused, for integrations that translate an interrupted operation. A deadline
	 * that has passed counts even if the timer has not fired yet: the context is cancelled with
	 * {@link CancellationCause#DEADLINE_EXCEEDED} on the spot, so an operation that a driver's own
	 * timeout stopped a moment before the timer still reports the deadline.
	 * @param context the context
	 * @param failure the failure to wrap, may be {@code null}
	 * @return the exception, or {@code null} if the context is not cancelled
	 */
	public static ContextCancelledException cancellationException(RequestContext context, Throwable failure) {
		return CORE.cancellationException(context, failure);
	}

	/**
	 * Returns the cancellable context behind a context, for integrations that must cancel what
	 * they are handed (a read-only view from {@link RequestContext#current()} included).
	 * @param context the context
	 * @return its nearest cancellable scope, or {@code null} for the root and detached contexts
	 */
	public static CancellableContext cancellable(RequestContext context) {
		return CORE.cancellable(context);
	}

	/**
	 * Returns the nearest enclosing context of the given kind (for example the request that a
	 * task belongs to).
	 * @param context where to start
	 * @param kind the kind to look for
	 * @return the context, or {@code null} if there is none
	 */
	public static CancellableContext nearest(RequestContext context, ContextKind kind) {
		return CORE.nearest(context, kind);
	}

	/**
	 * Returns the runtime a context belongs to.
	 * @param context the context
	 * @return its root's runtime, or the global runtime for the root and detached contexts
	 */
	public static ContextRuntime runtime(RequestContext context) {
		return CORE.runtime(Objects.requireNonNull(context, "context must not be null"));
	}

	/**
	 * Adds a root to the live tree of its runtime. Adding it twice has no effect.
	 * @param root the root context
	 */
	public static void register(CancellableContext root) {
		CORE.register(root);
	}

	/**
	 * Removes a root from the live tree of its runtime; a root that is not there is ignored.
	 * @param root the root context
	 */
	public static void unregister(CancellableContext root) {
		CORE.unregister(root);
	}

	/**
	 * Records which thread runs a context's work, for the live tree ({@code null} when the work
	 * is parked, for example during an async request).
	 * @param context the context
	 * @param thread the thread, or {@code null}
	 */
	public static void runningOn(CancellableContext context, Thread thread) {
		CORE.runningOn(context, thread);
	}

	/**
	 * Returns the thread recorded with {@link #runningOn(CancellableContext, Thread)}.
	 * @param context the context
	 * @return the thread, or {@code null}
	 */
	public static Thread thread(CancellableContext context) {
		return CORE.thread(context);
	}

	/**
	 * Records what a root came in over (the servlet request), for detectors that watch the
	 * connection while the work runs, on another thread. The write is cheap (no fence); a
	 * watcher that reads it later sees it, or sees {@code null} and looks again.
	 * @param context the root
	 * @param transport the inbound request or call, or {@code null}
	 */
	public static void transport(CancellableContext context, Object transport) {
		CORE.transport(context, transport);
	}

	/**
	 * Returns what {@link #transport(CancellableContext, Object)} recorded.
	 * @param context the root
	 * @return the inbound request or call, or {@code null}
	 */
	public static Object transport(CancellableContext context) {
		return CORE.transport(context);
	}

	/**
	 * Returns when a context was created, as a {@link System#nanoTime()} value.
	 * @param context the context
	 * @return the start time
	 */
	public static long startNanos(CancellableContext context) {
		return CORE.startNanos(context);
	}

	/**
	 * Returns the label shown for a context in the live tree.
	 * @param context the context
	 * @return the label, may be {@code null}
	 */
	public static Object label(CancellableContext context) {
		return CORE.label(context);
	}

	/**
	 * Returns the nearest cancellable ancestor of a context.
	 * @param context the context
	 * @return the parent, or {@code null} for a root
	 */
	public static CancellableContext parent(CancellableContext context) {
		return CORE.parent(context);
	}

	/**
	 * Returns the live child contexts of a context.
	 * @param context the context
	 * @return a copy of the children, oldest first
	 */
	public static List<CancellableContext> children(CancellableContext context) {
		return CORE.children(context);
	}

	/**
	 * Returns a snapshot of a context and its descendants, for display.
	 * @param context the context
	 * @return the snapshot
	 */
	public static ContextTree tree(CancellableContext context) {
		return CORE.tree(context);
	}

	/**
	 * Marks a context's work as done and closes it. For a task, this is what tells a normal end
	 * from an orphaning: a task whose parent completes before it finishes is an orphan.
	 * @param context the context
	 */
	public static void finish(CancellableContext context) {
		CORE.finish(context);
	}

	/**
	 * Returns whether {@link #finish(CancellableContext)} was called.
	 * @param context the context
	 * @return {@code true} once the work finished
	 */
	public static boolean isFinished(CancellableContext context) {
		return CORE.isFinished(context);
	}

	/**
	 * Returns an integration's per-runtime state.
	 * @param runtime the runtime
	 * @param type the state's type, used as its key
	 * @param <T> the type
	 * @return the state, or {@code null} if none was set
	 */
	public static <T> T extension(ContextRuntime runtime, Class<T> type) {
		return CORE.extension(runtime, type);
	}

	/**
	 * Sets an integration's per-runtime state (for example the task wrapper that the static
	 * executor helpers use for that application's contexts).
	 * @param runtime the runtime
	 * @param type the state's type, used as its key
	 * @param value the state
	 * @param <T> the type
	 */
	public static <T> void setExtension(ContextRuntime runtime, Class<T> type, T value) {
		CORE.setExtension(runtime, type, value);
	}

}
