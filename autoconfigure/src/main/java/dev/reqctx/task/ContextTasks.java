package dev.reqctx.task;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextDiagnostics;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextObserver;
import dev.reqctx.Leaks;
import dev.reqctx.OrphanHandler;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.StandardKeys;
import dev.reqctx.ThreadContextBinder;

/**
 * Runs work submitted to other threads in a child of the submitting context.
 *
 * <p>Each task gets a {@link ContextKind#TASK} child of the context current at submission: it
 * sees the submitter's deadline and values, it shows in the live tree (queued, then running),
 * and it is cancelled with its parent. A task whose parent is cancelled before it starts never
 * runs its body. A task still queued or running when its request ends is an <em>orphan</em>:
 * it is recorded in {@link Leaks} (with the submitting stack when
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
public final class ContextTasks implements OrphanHandler {

	private static final Logger LOGGER = System.getLogger(ContextTasks.class.getName());

	private static volatile ContextTasks shared = new ContextTasks(false, false, ContextObserver.NONE);

	private final ThreadContextBinder binder;

	private final boolean captureStacks;

	private final boolean keepOrphansRunning;

	private final ContextObserver observer;

	/**
	 * Creates a new instance.
	 * @param captureStacks whether to capture the submitting stack of every task (costly; for
	 * leak hunting)
	 * @param keepOrphansRunning whether orphans keep running instead of being cancelled
	 * @param observer receives orphan and cancellation events
	 */
	public ContextTasks(boolean captureStacks, boolean keepOrphansRunning, ContextObserver observer) {
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
	public ContextTasks(boolean captureStacks, boolean keepOrphansRunning, ContextObserver observer,
			ThreadContextBinder binder) {
		this.captureStacks = captureStacks;
		this.keepOrphansRunning = keepOrphansRunning;
		this.observer = Objects.requireNonNull(observer, "observer must not be null");
		this.binder = Objects.requireNonNull(binder, "binder must not be null");
	}

	/**
	 * Returns the instance used by the static helpers ({@link ContextExecutors},
	 * {@link ContextFutures}); the auto-configuration installs one built from
	 * {@code reqctx.task.*}.
	 * @return the shared instance
	 */
	public static ContextTasks shared() {
		return shared;
	}

	/**
	 * Replaces the shared instance.
	 * @param tasks the new shared instance
	 */
	public static void setShared(ContextTasks tasks) {
		shared = Objects.requireNonNull(tasks, "tasks must not be null");
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
				ContextDiagnostics.checkThreadClean(name);
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

	private CancellableContext fork(RequestContext parent, String name) {
		Thread submitter = Thread.currentThread();
		TaskInfo info = new TaskInfo(name, submitter.getName(),
				this.captureStacks ? new Throwable("Task submitted here") : null);
		return parent.newTask(info, this, this.keepOrphansRunning);
	}

	<V> V runIn(CancellableContext ctx, Callable<V> body) throws Exception {
		ContextDiagnostics.checkThreadClean(ctx.label());
		if (ctx.isCancelled()) {
			ctx.finish();
			this.observer.operationCancelled("task", ctx.cause(), 0);
			throw ctx.cancellationException(null);
		}
		started(ctx);
		try (Scope scope = ctx.attach(); ThreadContextBinder.Restore restore = this.binder.bind(ctx)) {
			return body.call();
		}
		finally {
			ctx.runningOn(null);
			ctx.finish();
		}
	}

	/** A task leaves the queue: how much budget the queue left it is what an operator wants. */
	private void started(CancellableContext ctx) {
		ctx.runningOn(Thread.currentThread());
		long remaining = ctx.remainingNanos();
		if (remaining != Long.MAX_VALUE) {
			this.observer.operationStarted("task", remaining);
		}
	}

	@Override
	public void orphaned(CancellableContext task) {
		TaskInfo info = (task.label() instanceof TaskInfo ti) ? ti : new TaskInfo(String.valueOf(task.label()), "?", null);
		CancellableContext request = task.nearest(ContextKind.REQUEST);
		String requestId = task.get(StandardKeys.REQUEST_ID);
		String state = (task.thread() != null) ? "RUNNING" : "QUEUED";
		String action = this.keepOrphansRunning ? "LEFT_RUNNING" : "CANCELLED";
		Leaks.record(new Leaks.Record(task.id(), info.name(), requestId,
				(request != null && request.label() != null) ? request.label().toString() : null, state, action,
				TimeUnit.NANOSECONDS.toMillis(task.ageNanos()), Instant.now(), info.submissionStack()));
		this.observer.taskOrphaned(task);
		String message = "Task '" + info.name() + "' (context " + task.id() + ", " + state.toLowerCase()
				+ ") outlived its request " + ((request != null) ? request.label() : "?") + " [" + requestId + "]; "
				+ (this.keepOrphansRunning ? "left it running" : "cancelled it")
				+ ((info.submittedAt() != null) ? ". It was submitted by thread '" + info.submittedBy() + "' at:"
						: ". Set reqctx.task.capture-stacks=true to see where it was submitted.");
		LOGGER.log(Level.WARNING, message, info.submittedAt());
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
			ContextDiagnostics.checkThreadClean(ctx.label());
			if (ctx.isCancelled()) {
				ctx.finish();
				ContextTasks.this.observer.operationCancelled("task", ctx.cause(), 0);
				if (this.task instanceof Future<?> future) {
					// Waiters must not hang on a body that will never run.
					future.cancel(false);
				}
				return;
			}
			started(ctx);
			try (Scope scope = ctx.attach();
					ThreadContextBinder.Restore restore = ContextTasks.this.binder.bind(ctx)) {
				this.task.run();
			}
			finally {
				ctx.runningOn(null);
				ctx.finish();
			}
		}

		@Override
		public String toString() {
			return "ContextTask[" + this.ctx.label() + "]";
		}

	}

	/** Work from outside any request: carries the values, nothing else. */
	private record ValuesOnlyRunnable(RequestContext ctx, Runnable task, ThreadContextBinder binder) implements Runnable {

		@Override
		public void run() {
			ContextDiagnostics.checkThreadClean(this.task);
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
