package dev.reqctx.task;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.function.Supplier;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextDiagnostics;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.OrphanHandler;
import dev.reqctx.spi.OrphanHistory;
import dev.reqctx.spi.ThreadContextBinder;

/**
 * Runs work submitted to other threads in a child of the submitting context.
 *
 * <p>Each task gets a {@link ContextKind#TASK} child of the context current at submission: it
 * sees the submitter's deadline and values, it shows in the live tree (queued, then running),
 * and it is cancelled with its parent. A task whose parent is cancelled before it starts never
 * runs its body. A task still queued or running when its request ends is an <em>orphan</em>:
 * it is recorded in its application's {@link dev.reqctx.spi.OrphanHistory} (with the submitting stack when
 * {@code captureStacks} is on), logged once at WARN, counted, and then cancelled with
 * {@link CancellationCause#COMPLETED} (its SQL and HTTP stop) unless orphans are left running.
 * Work submitted outside any request, or from a {@link RequestContext#detached() detached}
 * context, only carries the values along.
 *
 * <p>Before running a task, the worker thread is checked for a context left bound by earlier
 * work; one is reported and cleared, so a pooled thread never shows one task's context to the
 * next. While a task runs, a {@link ThreadContextBinder} (the logging MDC) mirrors its context,
 * and the worker's previous state is restored afterwards.
 */
public final class TaskWrapper {

	private static final TaskWrapper DEFAULT = new TaskWrapper(false, false, ContextObserver.NONE);

	private final ThreadContextBinder binder;

	private final boolean captureStacks;

	private final boolean keepOrphansRunning;

	private final ContextObserver observer;

	private final OrphanReporter orphans;

	/**
	 * Creates a new instance.
	 * @param captureStacks whether to capture the submitting stack of every task (costly; for
	 * leak hunting)
	 * @param keepOrphansRunning whether orphans keep running instead of being cancelled
	 * @param observer receives orphan and cancellation events
	 */
	public TaskWrapper(boolean captureStacks, boolean keepOrphansRunning, ContextObserver observer) {
		this(captureStacks, keepOrphansRunning, observer, ThreadContextBinder.NONE);
	}

	/**
	 * Creates a new instance.
	 * @param captureStacks whether to capture the submitting stack of every task (costly; for
	 * leak hunting)
	 * @param keepOrphansRunning whether orphans keep running instead of being cancelled
	 * @param observer receives orphan and cancellation events, and the budget left when a task
	 * starts
	 * @param binder mirrors each task's context into thread-bound state (the MDC) while it runs
	 */
	public TaskWrapper(boolean captureStacks, boolean keepOrphansRunning, ContextObserver observer,
			ThreadContextBinder binder) {
		this.captureStacks = captureStacks;
		this.keepOrphansRunning = keepOrphansRunning;
		this.observer = Objects.requireNonNull(observer, "observer must not be null");
		this.binder = Objects.requireNonNull(binder, "binder must not be null");
		this.orphans = new OrphanReporter(keepOrphansRunning, observer);
	}

	/**
	 * Returns the wrapper the static helpers ({@link ContextExecutors}, {@link ContextFutures})
	 * use for work submitted from the given context: the one installed for the context's
	 * application with {@link #install(ContextRuntime)} (the auto-configuration installs one
	 * built from {@code reqctx.task.*}), else a default that captures no stacks and cancels
	 * orphans.
	 * @param context the submitting context
	 * @return the wrapper
	 */
	public static TaskWrapper of(RequestContext context) {
		TaskWrapper wrapper = Contexts.extension(Contexts.runtime(context), TaskWrapper.class);
		return (wrapper != null) ? wrapper : DEFAULT;
	}

	/**
	 * Makes this the wrapper of the static helpers for work submitted from contexts of the
	 * given application.
	 * @param runtime the application's runtime
	 * @return this wrapper
	 */
	public TaskWrapper install(ContextRuntime runtime) {
		Contexts.setExtension(runtime, TaskWrapper.class, this);
		return this;
	}

	/**
	 * Wraps a runnable to run in a child of the current context.
	 * @param task the task
	 * @param name the task's name in the live tree
	 * @return the wrapped task
	 */
	public Runnable wrap(Runnable task, String name) {
		Objects.requireNonNull(task, "task must not be null");
		RequestContext parent = RequestContext.current();
		if (!parent.isCancellable()) {
			return new ValuesOnlyRunnable(parent, task, this.binder);
		}
		return new TaskRunnable(fork(parent, name), task);
	}

	/**
	 * Wraps a callable to run in a child of the current context. If the context is cancelled
	 * before it starts, the callable fails with the context's {@code ContextCancelledException}
	 * without running.
	 * @param task the task
	 * @param name the task's name in the live tree
	 * @param <V> the result type
	 * @return the wrapped task
	 */
	public <V> Callable<V> wrap(Callable<V> task, String name) {
		Objects.requireNonNull(task, "task must not be null");
		RequestContext parent = RequestContext.current();
		if (!parent.isCancellable()) {
			return () -> {
				checkThreadClean(parent, name);
				try (Scope scope = parent.attach(); ThreadContextBinder.Restore restore = this.binder.bind(parent)) {
					return task.call();
				}
			};
		}
		CancellableContext ctx = fork(parent, name);
		return () -> runIn(ctx, task::call);
	}

	/**
	 * Wraps a supplier like {@link #wrap(Callable, String)}; for {@code CompletableFuture.supplyAsync}.
	 * @param task the task
	 * @param name the task's name in the live tree
	 * @param <V> the result type
	 * @return the wrapped task
	 */
	public <V> Supplier<V> wrapSupplier(Supplier<V> task, String name) {
		Objects.requireNonNull(task, "task must not be null");
		Callable<V> callable = wrap((Callable<V>) task::get, name);
		return () -> {
			try {
				return callable.call();
			}
			catch (RuntimeException | Error ex) {
				throw ex;
			}
			catch (Exception ex) {
				// The supplier cannot throw checked exceptions, and neither does the wrapper.
				throw new IllegalStateException(ex);
			}
		};
	}

	/** Told when a task of this wrapper outlives its request. */
	OrphanHandler orphanHandler() {
		return this.orphans;
	}

	private CancellableContext fork(RequestContext parent, String name) {
		Thread submitter = Thread.currentThread();
		TaskInfo info = new TaskInfo(name, submitter.getName(),
				this.captureStacks ? new Throwable("Task submitted here") : null);
		return Contexts.newTask(parent, info, this.orphans, this.keepOrphansRunning);
	}

	<V> V runIn(CancellableContext ctx, Callable<V> body) throws Exception {
		checkThreadClean(ctx, Contexts.label(ctx));
		if (ctx.isCancelled()) {
			Contexts.finish(ctx);
			this.observer.operationCancelled("task", ctx.cause(), 0);
			throw Contexts.cancellationException(ctx, null);
		}
		started(ctx);
		try (Scope scope = ctx.attach(); ThreadContextBinder.Restore restore = this.binder.bind(ctx)) {
			return body.call();
		}
		finally {
			Contexts.runningOn(ctx, null);
			Contexts.finish(ctx);
		}
	}

	/** A task leaves the queue: how much budget the queue left it is what an operator wants. */
	private void started(CancellableContext ctx) {
		Contexts.runningOn(ctx, Thread.currentThread());
		long remaining = ctx.remainingNanos();
		if (remaining != Long.MAX_VALUE) {
			this.observer.operationStarted("task", remaining);
		}
	}

	/** Reports leftover work in the runtime of the thread's previous context, cleaning the thread. */
	private static void checkThreadClean(RequestContext next, Object what) {
		Contexts.runtime(next).diagnostics().checkThreadClean(what);
	}

	/** A task in a child context; runnables that are futures are cancelled if never run. */
	private final class TaskRunnable implements Runnable {

		private final CancellableContext ctx;

		private final Runnable task;

		TaskRunnable(CancellableContext ctx, Runnable task) {
			this.ctx = ctx;
			this.task = task;
		}

		@Override
		public void run() {
			CancellableContext ctx = this.ctx;
			checkThreadClean(ctx, Contexts.label(ctx));
			if (ctx.isCancelled()) {
				Contexts.finish(ctx);
				TaskWrapper.this.observer.operationCancelled("task", ctx.cause(), 0);
				if (this.task instanceof Future<?> future) {
					// Waiters must not hang on a body that will never run.
					future.cancel(false);
				}
				return;
			}
			started(ctx);
			try (Scope scope = ctx.attach();
					ThreadContextBinder.Restore restore = TaskWrapper.this.binder.bind(ctx)) {
				this.task.run();
			}
			finally {
				Contexts.runningOn(ctx, null);
				Contexts.finish(ctx);
			}
		}

		@Override
		public String toString() {
			return "ContextTask[" + Contexts.label(this.ctx) + "]";
		}

	}

	/** Work from outside any request: carries the values, nothing else. */
	private record ValuesOnlyRunnable(RequestContext ctx, Runnable task, ThreadContextBinder binder) implements Runnable {

		@Override
		public void run() {
			checkThreadClean(this.ctx, this.task);
			if (this.ctx == RequestContext.root()) {
				this.task.run();
				return;
			}
			try (Scope scope = this.ctx.attach(); ThreadContextBinder.Restore restore = this.binder.bind(this.ctx)) {
				this.task.run();
			}
		}

	}

}
