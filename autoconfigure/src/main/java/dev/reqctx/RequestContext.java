package dev.reqctx;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

import dev.reqctx.spi.Operation;
import dev.reqctx.spi.OrphanHandler;

/**
 * The context of one piece of work, usually an HTTP request: a deadline, a cancellation signal
 * with a cause, typed immutable values, and a tree of children.
 *
 * <p>Contexts are immutable. Each {@code with...} method returns a new context derived from this
 * one; the original is unchanged:
 * <ul>
 * <li>{@link #withValue(ContextKey, Object)} adds a value and shares this context's cancellation;
 * <li>{@link #withCancel()}, {@link #withTimeout(Duration)} and {@link #withDeadline(Deadline)}
 * return a {@link CancellableContext}, a child that is cancelled when this context is, and can be
 * cancelled on its own without touching this context. Its deadline is the earlier of its own and
 * this context's;
 * <li>{@link #detached()} keeps the values and drops deadline and cancellation, for work that
 * must outlive the request on purpose.
 * </ul>
 *
 * <p>A context is bound to a thread with {@link #attach()}, and {@link #current()} returns the
 * bound one (or the {@linkplain #root() root}, never {@code null}). Always close the scope in the
 * same thread, in reverse order:
 *
 * <pre>
 * try (CancellableContext ctx = RequestContext.current().withTimeout(Duration.ofMillis(200));
 *      Scope scope = ctx.attach()) {
 *     while (hasMoreWork()) {
 *         ctx.throwIfCancelled();
 *         doSomeWork();
 *     }
 * } // the scope restores the previous context; closing ctx cancels its leftover children
 * </pre>
 *
 * <p>Deadlines use the monotonic clock. A passed deadline cancels the context with
 * {@link CancellationCause#DEADLINE_EXCEEDED} from a shared timer thread; listeners registered
 * with {@link #onCancel(Runnable)} run on the thread that cancels, so they must be quick (hand
 * slow work to {@link dev.reqctx.spi.CancelExecutor#shared()}).
 *
 * <p>No inheritable thread-locals are used: a context crosses threads only when you pass it (or
 * use the executor and {@code CompletableFuture} helpers of the task integration).
 */
public sealed class RequestContext permits CancellableContext {

	private static final RequestContext ROOT = new RequestContext(null, null);

	static {
		// Integrations reach the core's plumbing through the SPI; it is installed with the core.
		SpiBridge.install();
	}

	/** The nearest cancellable ancestor-or-self, or {@code null} for root and detached contexts. */
	private final CancellableContext scope;

	/** Head of an immutable linked list of values, newest first; {@code null} when empty. */
	final ValueNode values;

	RequestContext(CancellableContext scope, ValueNode values) {
		this.scope = scope;
		this.values = values;
	}

	/**
	 * Returns the context bound to the calling thread.
	 * @return the bound context, or the {@linkplain #root() root} if none is bound
	 */
	public static RequestContext current() {
		RequestContext bound = Scope.currentOrNull();
		return (bound != null) ? bound : ROOT;
	}

	/**
	 * Returns the root context: no values, no deadline, never cancelled.
	 * @return the root context
	 */
	public static RequestContext root() {
		return ROOT;
	}

	CancellableContext scope() {
		return this.scope;
	}

	/**
	 * Returns the value of the given key.
	 * @param key the key
	 * @param <T> the type of the value
	 * @return the value, or {@code null} if this context has none for the key
	 */
	@SuppressWarnings("unchecked")
	public <T> T get(ContextKey<T> key) {
		for (ValueNode node = this.values; node != null; node = node.next) {
			if (node.key == key) {
				return (T) node.value;
			}
		}
		return null;
	}

	/**
	 * Returns every value of this context, by key name (the newest value wins for a key), but
	 * those of integrations' own {@linkplain dev.reqctx.spi.Contexts#hiddenKey(String) hidden
	 * keys}.
	 * @return the values, in no particular order
	 */
	public Map<ContextKey<?>, Object> values() {
		Map<ContextKey<?>, Object> result = new LinkedHashMap<>();
		for (ValueNode node = this.values; node != null; node = node.next) {
			if (!node.key.isHidden()) {
				result.putIfAbsent(node.key, node.value);
			}
		}
		return result;
	}

	/**
	 * Returns a context with the given value added, sharing this context's deadline and
	 * cancellation.
	 * @param key the key
	 * @param value the value, should be immutable; {@code null} hides an inherited value
	 * @param <T> the type of the value
	 * @return the new context
	 */
	public <T> RequestContext withValue(ContextKey<T> key, T value) {
		Objects.requireNonNull(key, "key must not be null");
		return new RequestContext(scope(), new ValueNode(key, value, this.values));
	}

	/**
	 * Returns a cancellable child of this context with the same deadline.
	 * @return the child
	 */
	public CancellableContext withCancel() {
		return CancellableContext.create(this, ContextKind.SCOPE, null, null);
	}

	/**
	 * Returns a cancellable child of this context that is cancelled with
	 * {@link CancellationCause#DEADLINE_EXCEEDED} after the given time, or earlier if this
	 * context's own deadline comes first.
	 * @param timeout how long the child may run
	 * @return the child
	 */
	public CancellableContext withTimeout(Duration timeout) {
		Objects.requireNonNull(timeout, "timeout must not be null");
		return CancellableContext.createWithTimeout(null, this, ContextKind.SCOPE, null,
				Deadline.saturatedNanos(timeout));
	}

	/**
	 * Returns a cancellable child of this context with the earlier of the given deadline and
	 * this context's deadline.
	 * @param deadline the child's own deadline, on the {@linkplain Deadline.Ticker#system() system
	 * ticker}
	 * @return the child
	 * @throws IllegalArgumentException if the deadline reads another ticker: the timer that
	 * cancels contexts runs on the system clock
	 */
	public CancellableContext withDeadline(Deadline deadline) {
		Objects.requireNonNull(deadline, "deadline must not be null");
		return CancellableContext.create(this, ContextKind.SCOPE, null, deadline);
	}

	CancellableContext newChild(ContextKind kind, Object label, Deadline deadline) {
		Objects.requireNonNull(kind, "kind must not be null");
		return CancellableContext.create(this, kind, label, deadline);
	}

	CancellableContext newTask(Object label, OrphanHandler orphanHandler, boolean keepRunningWhenOrphaned) {
		Objects.requireNonNull(orphanHandler, "orphanHandler must not be null");
		return CancellableContext.createTask(this, label, orphanHandler, keepRunningWhenOrphaned);
	}

	/**
	 * Returns a context with this context's values but no deadline and no cancellation. Use it
	 * for work that must outlive the request on purpose (an audit write, a cache refresh).
	 * @return the detached context
	 */
	public RequestContext detached() {
		return (this.values == null) ? ROOT : new RequestContext(null, this.values);
	}

	/**
	 * Returns whether this context has a scope of cancellation (it is not the root, nor
	 * detached).
	 * @return {@code true} if this context can ever be cancelled
	 */
	public boolean isCancellable() {
		return scope() != null;
	}

	/**
	 * Returns whether this context was cancelled.
	 * @return {@code true} once cancelled
	 */
	public boolean isCancelled() {
		CancellableContext s = scope();
		return s != null && s.cancellationCause() != null;
	}

	/**
	 * Returns why this context was cancelled.
	 * @return the cause, or {@code null} while the context is not cancelled
	 */
	public CancellationCause cause() {
		CancellableContext s = scope();
		return (s != null) ? s.cancellationCause() : null;
	}

	/**
	 * Returns this context's deadline.
	 * @return the deadline, or empty if it has none
	 */
	public Optional<Deadline> deadline() {
		CancellableContext s = scope();
		return Optional.ofNullable((s != null) ? s.effectiveDeadline() : null);
	}

	/**
	 * Returns the time left before the deadline.
	 * @return the time left (zero once passed), or empty if there is no deadline
	 */
	public Optional<Duration> remaining() {
		CancellableContext s = scope();
		Deadline deadline = (s != null) ? s.effectiveDeadline() : null;
		return (deadline != null) ? Optional.of(deadline.remaining()) : Optional.empty();
	}

	/**
	 * Returns the time left before the deadline without allocating, for hot paths.
	 * @return nanoseconds left (zero or negative once passed), or {@link Long#MAX_VALUE} if
	 * there is no deadline
	 */
	public long remainingNanos() {
		CancellableContext s = scope();
		Deadline deadline = (s != null) ? s.effectiveDeadline() : null;
		return (deadline != null) ? deadline.remainingNanos() : Long.MAX_VALUE;
	}

	/**
	 * Throws if this context was cancelled; call it in loops that should stop when the request
	 * is gone.
	 * @throws ContextCancelledException if cancelled ({@link DeadlineExceededException} when
	 * the deadline passed)
	 */
	public void throwIfCancelled() {
		CancellableContext s = scope();
		if (s != null && s.cancellationCause() != null) {
			throw s.newCancelledException(null);
		}
	}

	/**
	 * The exception that describes this context's cancellation, counting a passed deadline the
	 * timer has not fired yet (see {@code Contexts#cancellationException}).
	 */
	ContextCancelledException cancellationException(Throwable failure) {
		CancellableContext s = scope();
		if (s == null || (s.cancellationCause() == null && !s.expireIfDue())) {
			return null;
		}
		return s.newCancelledException(failure);
	}

	/**
	 * Registers a listener that runs once when this context is cancelled. If the context is
	 * already cancelled the listener runs at once, on the calling thread. Listeners run on the
	 * cancelling thread and must be quick.
	 * @param listener the listener
	 * @return a registration; remove it when the guarded work is done
	 */
	public Registration onCancel(Runnable listener) {
		Objects.requireNonNull(listener, "listener must not be null");
		CancellableContext s = scope();
		return (s != null) ? s.addListener(listener) : Registration.NONE;
	}

	Operation startOperation(String kind, String description, Consumer<CancellationCause> onCancel) {
		CancellableContext s = scope();
		return (s != null) ? s.addOperation(kind, description, onCancel) : Operation.UNTRACKED;
	}

	/**
	 * Binds this context to the calling thread until the returned scope is closed.
	 * @return the scope that restores the previous context
	 */
	public Scope attach() {
		return Scope.attach(this);
	}

	/**
	 * Returns a runnable that runs the given one with this context bound.
	 * @param task the task
	 * @return the wrapped task
	 */
	public Runnable wrap(Runnable task) {
		Objects.requireNonNull(task, "task must not be null");
		return () -> {
			try (Scope ignored = attach()) {
				task.run();
			}
		};
	}

	/**
	 * Returns a callable that calls the given one with this context bound.
	 * @param task the task
	 * @param <V> the result type
	 * @return the wrapped task
	 */
	public <V> Callable<V> wrap(Callable<V> task) {
		Objects.requireNonNull(task, "task must not be null");
		return () -> {
			try (Scope ignored = attach()) {
				return task.call();
			}
		};
	}

	/**
	 * Returns the id of this context's scope of cancellation.
	 * @return the id of the nearest cancellable context, or {@code "root"}
	 */
	public String id() {
		CancellableContext s = scope();
		return (s != null) ? s.id() : "root";
	}

	CancellableContext nearest(ContextKind kind) {
		for (CancellableContext s = scope(); s != null; s = s.parent()) {
			if (s.kind() == kind) {
				return s;
			}
		}
		return null;
	}

	@Override
	public String toString() {
		CancellableContext s = scope();
		if (s != null) {
			return "RequestContext[scope=" + s.id() + "]";
		}
		if (this == ROOT) {
			return "RequestContext[root]";
		}
		StringBuilder keys = new StringBuilder();
		for (ValueNode node = this.values; node != null; node = node.next) {
			keys.append((keys.length() > 0) ? "," : "").append(node.key.name());
		}
		return "RequestContext[uncancellable, values=" + keys + "]";
	}

	/** One link of the immutable value list. */
	static final class ValueNode {

		final ContextKey<?> key;

		final Object value;

		final ValueNode next;

		ValueNode(ContextKey<?> key, Object value, ValueNode next) {
			this.key = key;
			this.value = value;
			this.next = next;
		}

	}

}
