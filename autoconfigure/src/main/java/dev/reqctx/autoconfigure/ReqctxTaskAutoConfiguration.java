package dev.reqctx.autoconfigure;

import dev.reqctx.ContextRuntime;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.ThreadContextBinder;
import dev.reqctx.task.ContextTaskDecorator;
import dev.reqctx.task.TaskWrapper;

import org.springframework.aop.interceptor.AsyncUncaughtExceptionHandler;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.task.TaskExecutionAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.task.TaskDecorator;
import org.springframework.scheduling.annotation.AsyncConfigurer;

/**
 * {@link AutoConfiguration Auto-configuration} for running tasks in their request's context:
 * a {@link TaskDecorator} that Spring Boot composes into its task executor (so {@code @Async}
 * works with no code), and the application's {@link TaskWrapper}, which {@code ContextExecutors} and
 * {@code ContextFutures} use for its contexts.
 */
@AutoConfiguration(after = ReqctxAutoConfiguration.class, before = TaskExecutionAutoConfiguration.class)
@ConditionalOnClass(TaskDecorator.class)
@ConditionalOnBooleanProperty(name = "reqctx.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "reqctx.task.enabled", matchIfMissing = true)
public final class ReqctxTaskAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	TaskWrapper reqctxTaskWrapper(ReqctxProperties properties, ContextRuntime runtime,
			ObjectProvider<ContextObserver> observer, ObjectProvider<ThreadContextBinder> binders) {
		ReqctxProperties.Task task = properties.getTask();
		return new TaskWrapper(task.isCaptureStacks(),
				task.getOnRequestEnd() == ReqctxProperties.Task.OrphanAction.REPORT, new LazyObserver(observer),
				ThreadContextBinder.of(binders.orderedStream().toList()))
			.install(runtime);
	}

	@Bean
	@ConditionalOnMissingBean(ContextTaskDecorator.class)
	ContextTaskDecorator reqctxTaskDecorator(TaskWrapper tasks) {
		return new ContextTaskDecorator(tasks, "async");
	}

	/**
	 * A {@code void} {@code @Async} method stopped by its context's cancellation (an orphan
	 * cancelled by design) gets one line, not Spring's ERROR with a stack. Only when the
	 * application has no {@code AsyncConfigurer} of its own: then its handler applies.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(AsyncConfigurer.class)
	@ConditionalOnMissingBean(AsyncConfigurer.class)
	static class AsyncExceptionConfiguration {

		@Bean
		AsyncConfigurer reqctxAsyncConfigurer() {
			return new AsyncConfigurer() {

				@Override
				public AsyncUncaughtExceptionHandler getAsyncUncaughtExceptionHandler() {
					return new CancelledAsyncTaskHandler();
				}

			};
		}

	}

	/** Resolves the observer on first use: the meter registry may be created after this bean. */
	private static final class LazyObserver implements ContextObserver {

		private final ObjectProvider<ContextObserver> provider;

		private volatile ContextObserver resolved;

		LazyObserver(ObjectProvider<ContextObserver> provider) {
			this.provider = provider;
		}

		private ContextObserver get() {
			ContextObserver observer = this.resolved;
			if (observer == null) {
				observer = this.provider.getIfAvailable(() -> ContextObserver.NONE);
				this.resolved = observer;
			}
			return observer;
		}

		@Override
		public void operationStarted(String operation, long remainingNanos) {
			get().operationStarted(operation, remainingNanos);
		}

		@Override
		public void operationCancelled(String operation, dev.reqctx.CancellationCause cause, long latencyNanos) {
			get().operationCancelled(operation, cause, latencyNanos);
		}

		@Override
		public void taskOrphaned(dev.reqctx.CancellableContext task) {
			get().taskOrphaned(task);
		}

	}

}
