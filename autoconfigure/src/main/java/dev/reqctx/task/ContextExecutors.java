package dev.reqctx.task;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.reqctx.RequestContext;
import dev.reqctx.spi.Contexts;

/**
 * Wrappers that make any {@link Executor}, {@link ExecutorService} or
 * {@link ScheduledExecutorService} run its tasks in a child of the submitting context:
 *
 * <pre>
 * ExecutorService pool = ContextExecutors.wrap(Executors.newFixedThreadPool(8));
 * Future&lt;Report&gt; report = pool.submit(() -&gt; buildReport()); // sees the request's deadline
 * </pre>
 *
 * Virtual-thread executors are wrapped the same way. Lifecycle methods ({@code shutdown},
 * {@code awaitTermination}) go straight to the wrapped executor.
 */
public final class ContextExecutors {

	private ContextExecutors() {
	}

	/**
	 * Wraps an executor.
	 * @param executor the executor
	 * @return an executor that propagates the context
	 */
	public static Executor wrap(Executor executor) {
		Objects.requireNonNull(executor, "executor must not be null");
		if (executor instanceof ExecutorService service) {
			return wrap(service);
		}
		return (task) -> executor.execute(TaskWrapper.of(RequestContext.current()).wrap(task, nameOf(executor)));
	}

	/**
	 * Wraps an executor service.
	 * @param executor the executor service
	 * @return an executor service that propagates the context
	 */
	public static ExecutorService wrap(ExecutorService executor) {
		Objects.requireNonNull(executor, "executor must not be null");
		if (executor instanceof ScheduledExecutorService scheduled) {
			return wrap(scheduled);
		}
		return (executor instanceof ContextExecutorService) ? executor : new ContextExecutorService(executor);
	}

	/**
	 * Wraps a scheduled executor service. A periodic task keeps one context for all its runs,
	 * so it is an orphan (and stops) when the request that scheduled it ends.
	 * @param executor the scheduled executor service
	 * @return a scheduled executor service that propagates the context
	 */
	public static ScheduledExecutorService wrap(ScheduledExecutorService executor) {
		Objects.requireNonNull(executor, "executor must not be null");
		return (executor instanceof ContextScheduledExecutorService) ? executor
				: new ContextScheduledExecutorService(executor);
	}

	static String nameOf(Object executor) {
		return executor.getClass().getSimpleName();
	}

	private static class ContextExecutorService implements ExecutorService {

		final ExecutorService delegate;

		final String name;

		ContextExecutorService(ExecutorService delegate) {
			this.delegate = delegate;
			this.name = nameOf(delegate);
		}

		Runnable wrap(Runnable task) {
			return TaskWrapper.of(RequestContext.current()).wrap(task, this.name);
		}

		<T> Callable<T> wrap(Callable<T> task) {
			return TaskWrapper.of(RequestContext.current()).wrap(task, this.name);
		}

		<T> List<Callable<T>> wrapAll(Collection<? extends Callable<T>> tasks) {
			List<Callable<T>> wrapped = new ArrayList<>(tasks.size());
			for (Callable<T> task : tasks) {
				wrapped.add(wrap(task));
			}
			return wrapped;
		}

		@Override
		public void execute(Runnable command) {
			this.delegate.execute(wrap(command));
		}

		@Override
		public <T> Future<T> submit(Callable<T> task) {
			return this.delegate.submit(wrap(task));
		}

		@Override
		public <T> Future<T> submit(Runnable task, T result) {
			Objects.requireNonNull(task, "task must not be null");
			return this.delegate.submit(wrap(() -> {
				task.run();
				return result;
			}));
		}

		@Override
		public Future<?> submit(Runnable task) {
			return submit(task, null);
		}

		@Override
		public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
			return this.delegate.invokeAll(wrapAll(tasks));
		}

		@Override
		public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
				throws InterruptedException {
			return this.delegate.invokeAll(wrapAll(tasks), timeout, unit);
		}

		@Override
		public <T> T invokeAny(Collection<? extends Callable<T>> tasks)
				throws InterruptedException, ExecutionException {
			return this.delegate.invokeAny(wrapAll(tasks));
		}

		@Override
		public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
				throws InterruptedException, ExecutionException, TimeoutException {
			return this.delegate.invokeAny(wrapAll(tasks), timeout, unit);
		}

		@Override
		public void shutdown() {
			this.delegate.shutdown();
		}

		@Override
		public List<Runnable> shutdownNow() {
			return this.delegate.shutdownNow();
		}

		@Override
		public boolean isShutdown() {
			return this.delegate.isShutdown();
		}

		@Override
		public boolean isTerminated() {
			return this.delegate.isTerminated();
		}

		@Override
		public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
			return this.delegate.awaitTermination(timeout, unit);
		}

		@Override
		public String toString() {
			return "ContextExecutorService[" + this.delegate + "]";
		}

	}

	private static final class ContextScheduledExecutorService extends ContextExecutorService
			implements ScheduledExecutorService {

		private final ScheduledExecutorService scheduled;

		ContextScheduledExecutorService(ScheduledExecutorService delegate) {
			super(delegate);
			this.scheduled = delegate;
		}

		@Override
		public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
			Objects.requireNonNull(command, "command must not be null");
			return this.scheduled.schedule(wrap(() -> {
				command.run();
				return null;
			}), delay, unit);
		}

		@Override
		public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
			return this.scheduled.schedule(wrap(callable), delay, unit);
		}

		@Override
		public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
			return this.scheduled.scheduleAtFixedRate(periodic(command), initialDelay, period, unit);
		}

		@Override
		public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay,
				TimeUnit unit) {
			return this.scheduled.scheduleWithFixedDelay(periodic(command), initialDelay, delay, unit);
		}

		/** Every run binds the same child context; once it is cancelled, the next run throws, which stops the schedule. */
		private Runnable periodic(Runnable command) {
			Objects.requireNonNull(command, "command must not be null");
			dev.reqctx.RequestContext parent = dev.reqctx.RequestContext.current();
			if (!parent.isCancellable()) {
				return TaskWrapper.of(parent).wrap(command, this.name);
			}
			dev.reqctx.CancellableContext ctx = Contexts.newTask(parent,
					new TaskInfo(this.name + " (periodic)", Thread.currentThread().getName(), null), TaskWrapper.of(parent).orphanHandler(),
					false);
			return () -> {
				ctx.throwIfCancelled();
				Contexts.runningOn(ctx, Thread.currentThread());
				try (dev.reqctx.Scope scope = ctx.attach()) {
					command.run();
				}
				finally {
					Contexts.runningOn(ctx, null);
				}
			};
		}

	}

}
