package dev.reqctx;

import java.time.Duration;
import java.util.Objects;
import java.util.UUID;

import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.ThreadContextBinder;

/**
 * A root of the live tree started by application code: a batch run, a command, a job or a
 * message that no integration starts a context for. It gets what a request gets: a deadline, a
 * place in the live tree (where an operator can see and cancel it), and completion when it
 * ends, which stops its leftover children and reports its unfinished tasks as orphans. Its
 * outcome goes to the runtime's {@link ContextObserver} (the {@code reqctx.work} meter in a
 * Spring application) by kind and name: keep names of bounded cardinality, like routes.
 *
 * <p>Start one from the application's {@link ContextRuntime} (a bean in a Spring application)
 * with try-with-resources. {@link UnitOfWork.Builder#start() start()} binds it to the calling
 * thread, so SQL, outbound HTTP and tasks started inside are bounded by its deadline and
 * cancelled with it; {@link #close()} ends it:
 *
 * <pre>
 * try (UnitOfWork work = runtime.work("export-orders")
 *         .kind(ContextKind.JOB)
 *         .timeout(Duration.ofMinutes(5))
 *         .value(TENANT, "acme")
 *         .start()) {
 *     exporter.exportAll();
 * }
 * </pre>
 *
 * <p>Start and close a unit of work on one thread. Closed on another thread, it still ends (its
 * context is completed and leaves the live tree) but the starting thread keeps it bound until
 * it closes it too, since thread state can only be put back by its own thread. To hand parts of
 * it to other threads, use {@code context().wrap(...)} or the executors reqctx wraps.
 */
public final class UnitOfWork implements AutoCloseable {

	private final CancellableContext context;

	private final String name;

	private final Scope scope;

	private final ThreadContextBinder.Restore restore;

	private final Thread owner = Thread.currentThread();

	/** Whether the thread state bound at start was put back. */
	private boolean unbound;

	/** Whether the work was completed and left the live tree. */
	private volatile boolean completed;

	private UnitOfWork(CancellableContext context, String name) {
		this.context = context;
		this.name = name;
		this.scope = context.attach();
		ThreadContextBinder binder = context.runtime.extension(ThreadContextBinder.class);
		this.restore = (binder != null) ? binder.bind(RequestContext.current()) : ThreadContextBinder.Restore.NOTHING;
	}

	/**
	 * Returns the unit's context: to cancel it, to listen for its cancellation, or to wrap work
	 * for another thread.
	 * @return the context, a root of the live tree
	 */
	public CancellableContext context() {
		return this.context;
	}

	/**
	 * Returns the unit's name, as shown in the live tree.
	 * @return the name
	 */
	public String name() {
		return this.name;
	}

	/**
	 * Ends the unit of work: restores the context bound before {@link Builder#start()},
	 * completes the unit's context (its leftover children are cancelled with
	 * {@link CancellationCause#COMPLETED}, unfinished tasks reported as orphans) and removes it
	 * from the live tree. Closing twice does nothing the second time. On a thread other than the
	 * one that started it, only the completion happens; the starting thread's binding stays until
	 * that thread closes it.
	 */
	@Override
	public void close() {
		if (!this.unbound && Thread.currentThread() == this.owner) {
			// The thread state is put back only on the thread that bound it; closed elsewhere,
			// the work still ends, and the owner's own close unbinds it later.
			this.unbound = true;
			try {
				this.restore.close();
			}
			finally {
				this.scope.close();
			}
		}
		if (this.completed) {
			return;
		}
		this.completed = true;
		CancellationCause cause = this.context.cause();
		this.context.cancel(CancellationCause.COMPLETED);
		ContextRuntime runtime = this.context.runtime;
		runtime.live().unregister(this.context);
		ContextObserver observer = runtime.extension(ContextObserver.class);
		if (observer != null) {
			try {
				observer.workFinished(this.context, this.name, (cause != null) ? cause : CancellationCause.COMPLETED);
			}
			catch (RuntimeException ex) {
				runtime.diagnostics.listenerFailed(this.context, ex);
			}
		}
	}

	@Override
	public String toString() {
		return this.context.kind() + " '" + this.name + "' (" + this.context.id() + ")";
	}

	/**
	 * Describes a unit of work before it starts. Obtained from {@link ContextRuntime#work(String)}.
	 */
	public static final class Builder {

		private final ContextRuntime runtime;

		private final String name;

		private ContextKind kind = ContextKind.WORK;

		private Deadline deadline;

		/** The timeout, when set instead of a deadline; negative when not set. */
		private long timeoutNanos = -1;

		private RequestContext values = RequestContext.root();

		Builder(ContextRuntime runtime, String name) {
			this.runtime = runtime;
			this.name = name;
		}

		/**
		 * Sets what the unit stands for in the live tree, meters and logs.
		 * @param kind a root kind: {@link ContextKind#WORK} (the default), {@link ContextKind#JOB},
		 * {@link ContextKind#MESSAGE} or {@link ContextKind#REQUEST}
		 * @return this builder
		 * @throws IllegalArgumentException for {@link ContextKind#TASK} or {@link ContextKind#SCOPE}
		 */
		public Builder kind(ContextKind kind) {
			Objects.requireNonNull(kind, "kind must not be null");
			if (!kind.isRoot()) {
				throw new IllegalArgumentException(kind + " is not a root kind: a unit of work is a JOB, MESSAGE, "
						+ "REQUEST or WORK; for a part of another unit's work use withTimeout() on its context");
			}
			this.kind = kind;
			return this;
		}

		/**
		 * Gives the unit a deadline this long after {@link #start()}. Without a timeout or a
		 * deadline the unit has none (only a cancel ends it early).
		 * @param timeout how long the work may run, positive
		 * @return this builder
		 */
		public Builder timeout(Duration timeout) {
			Objects.requireNonNull(timeout, "timeout must not be null");
			if (timeout.isNegative() || timeout.isZero()) {
				throw new IllegalArgumentException("timeout must be positive, was " + timeout);
			}
			this.deadline = null;
			this.timeoutNanos = Deadline.saturatedNanos(timeout);
			return this;
		}

		/**
		 * Gives the unit a fixed deadline.
		 * @param deadline the deadline, on {@link Deadline.Ticker#system()}
		 * @return this builder
		 */
		public Builder deadline(Deadline deadline) {
			Objects.requireNonNull(deadline, "deadline must not be null");
			this.deadline = deadline;
			this.timeoutNanos = -1;
			return this;
		}

		/**
		 * Adds a value the unit's context starts with.
		 * @param key the key
		 * @param value the value
		 * @param <T> the value's type
		 * @return this builder
		 */
		public <T> Builder value(ContextKey<T> key, T value) {
			this.values = this.values.withValue(key, value);
			return this;
		}

		/**
		 * Starts the unit: creates its context, registers it in the live tree and binds it to
		 * the calling thread until {@link UnitOfWork#close()}, with what the application's
		 * {@link ThreadContextBinder}s bind (the logging MDC). Without a
		 * {@link StandardKeys#REQUEST_ID} value, the unit gets a random one, for its log lines.
		 * @return the running unit of work
		 */
		public UnitOfWork start() {
			if (this.values.get(StandardKeys.REQUEST_ID) == null) {
				// Log lines of the work carry an id, as a request's do.
				this.values = this.values.withValue(StandardKeys.REQUEST_ID, UUID.randomUUID().toString());
			}
			Object label = this.name;
			CancellableContext context;
			if (this.timeoutNanos >= 0) {
				context = CancellableContext.createLive(this.runtime, this.values, this.kind, label, this.timeoutNanos);
			}
			else {
				context = CancellableContext.createRoot(this.runtime, this.values, this.kind, label, this.deadline);
				this.runtime.live().register(context);
			}
			return new UnitOfWork(context, this.name);
		}

	}

}
