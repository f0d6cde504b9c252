package dev.reqctx.autoconfigure;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import dev.reqctx.CancellableContext;
import dev.reqctx.ContextKey;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.RequestInfo;
import dev.reqctx.task.ContextTaskDecorator;
import dev.reqctx.task.TaskInfo;
import dev.reqctx.task.TaskWrapper;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.task.TaskExecutionAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.task.TaskDecorator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ReqctxTaskAutoConfiguration}.
 */
class ReqctxTaskAutoConfigurationTests {

	private static final ContextKey<String> TENANT = ContextKey.named("tenant");

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ReqctxAutoConfiguration.class, ReqctxTaskAutoConfiguration.class));

	@Test
	void registersTheTaskWrapperAndTheTaskDecorator() {
		this.runner.run((context) -> assertThat(context).hasSingleBean(TaskWrapper.class)
			.hasSingleBean(ContextTaskDecorator.class));
	}

	@Test
	void taskDisabledRegistersNeither() {
		this.runner.withPropertyValues("reqctx.task.enabled=false")
			.run((context) -> assertThat(context).hasSingleBean(ContextRuntime.class)
				.doesNotHaveBean(TaskWrapper.class)
				.doesNotHaveBean(TaskDecorator.class));
	}

	@Test
	void reqctxDisabledRegistersNothing() {
		this.runner.withPropertyValues("reqctx.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(ContextRuntime.class)
				.doesNotHaveBean(TaskWrapper.class)
				.doesNotHaveBean(TaskDecorator.class));
	}

	@Test
	void backsOffFromTheApplicationsOwnTaskWrapperAndDecoratesWithIt() {
		this.runner.withUserConfiguration(OwnTaskWrapper.class).run((context) -> {
			assertThat(context).getBean(TaskWrapper.class).isSameAs(OwnTaskWrapper.WRAPPER);
			assertThat(context).hasSingleBean(ContextTaskDecorator.class);
			TaskInfo info = runInTask(context.getBean(ContextTaskDecorator.class)::decorate,
					request(context.getBean(ContextRuntime.class)));
			assertThat(info.submittedAt()).as("the application's wrapper captures stacks").isNotNull();
		});
	}

	@Test
	void backsOffFromTheApplicationsOwnTaskDecorator() {
		this.runner.withUserConfiguration(OwnTaskDecorator.class)
			.run((context) -> assertThat(context).hasSingleBean(TaskWrapper.class)
				.getBean(ContextTaskDecorator.class)
				.isSameAs(OwnTaskDecorator.DECORATOR));
	}

	@Test
	void theTaskWrapperServesTheContextsOfItsApplicationOnly() {
		this.runner.run((context) -> {
			TaskWrapper wrapper = context.getBean(TaskWrapper.class);
			try (CancellableContext request = request(context.getBean(ContextRuntime.class))) {
				assertThat(TaskWrapper.of(request)).isSameAs(wrapper);
				assertThat(TaskWrapper.of(request.withValue(TENANT, "acme").withCancel()))
					.as("and the contexts derived from them")
					.isSameAs(wrapper);
			}
			try (CancellableContext elsewhere = request(new ContextRuntime("another", 1, false));
					CancellableContext third = request(new ContextRuntime("a third", 1, false))) {
				assertThat(TaskWrapper.of(elsewhere)).as("another application's contexts get the default")
					.isNotSameAs(wrapper)
					.isSameAs(TaskWrapper.of(third));
			}
		});
	}

	@Test
	void taskPropertiesReachTheWrapper() {
		this.runner.withPropertyValues("reqctx.task.capture-stacks=true").run((context) -> {
			TaskWrapper wrapper = context.getBean(TaskWrapper.class);
			TaskInfo info = runInTask((task) -> wrapper.wrap(task, "captured"),
					request(context.getBean(ContextRuntime.class)));
			assertThat(info.name()).isEqualTo("captured");
			assertThat(info.submittedAt()).isNotNull();
		});
	}

	@Test
	void leakHistorySetsTheOrphanHistoryOfTheApplicationsRuntime() {
		this.runner.run((context) -> assertThat(context.getBean(ContextRuntime.class).orphans().capacity())
			.isEqualTo(ContextRuntime.DEFAULT_ORPHAN_HISTORY));
		this.runner.withPropertyValues("reqctx.task.leak-history=7")
			.run((context) -> assertThat(context.getBean(ContextRuntime.class).orphans().capacity()).isEqualTo(7));
	}

	@Test
	void anUnusableLeakHistoryFailsStartupWithThePropertyToChange() {
		this.runner.withPropertyValues("reqctx.task.leak-history=0")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.isInstanceOfSatisfying(InvalidReqctxPropertyException.class,
						(ex) -> assertThat(ex.getProperty()).isEqualTo("reqctx.task.leak-history"))
				.hasMessageContaining("reqctx.task.leak-history must be at least 1, but was 0"));
	}

	@Test
	void bootsTaskExecutorRunsTasksInAChildOfTheSubmittingContext() {
		this.runner.withConfiguration(AutoConfigurations.of(TaskExecutionAutoConfiguration.class)).run((context) -> {
			Executor executor = context.getBean(TaskExecutionAutoConfiguration.APPLICATION_TASK_EXECUTOR_BEAN_NAME,
					Executor.class);
			ContextRuntime runtime = context.getBean(ContextRuntime.class);
			try (CancellableContext request = request(runtime)) {
				CompletableFuture<RequestContext> seen = new CompletableFuture<>();
				try (Scope scope = request.withValue(TENANT, "acme").attach()) {
					executor.execute(() -> seen.complete(RequestContext.current()));
				}
				RequestContext inTask = seen.get(10, TimeUnit.SECONDS);
				assertThat(inTask.get(TENANT)).isEqualTo("acme");
				CancellableContext task = Contexts.nearest(inTask, ContextKind.TASK);
				assertThat(task).as("a task context from the decorator").isNotNull();
				assertThat(Contexts.parent(task)).isSameAs(request);
				assertThat(((TaskInfo) Contexts.label(task)).name()).isEqualTo("async");
				assertThat(Contexts.runtime(task)).isSameAs(runtime);
			}
		});
	}

	/** A request of the given application, as the web filter starts it. */
	private static CancellableContext request(ContextRuntime runtime) {
		return Contexts.newRoot(runtime, RequestContext.root(), ContextKind.REQUEST, new RequestInfo("GET", "/task"), 1,
				TimeUnit.MINUTES);
	}

	/** Wraps a task with {@code wrap} under {@code request}, runs it, and returns its context's label. */
	private static TaskInfo runInTask(UnaryOperator<Runnable> wrap, CancellableContext request) {
		try (request) {
			TaskInfo[] seen = new TaskInfo[1];
			Runnable wrapped;
			try (Scope scope = request.attach()) {
				wrapped = wrap.apply(() -> seen[0] = (TaskInfo) Contexts
					.label(Contexts.nearest(RequestContext.current(), ContextKind.TASK)));
			}
			wrapped.run();
			return seen[0];
		}
	}

	@Configuration(proxyBeanMethods = false)
	static class OwnTaskWrapper {

		static final TaskWrapper WRAPPER = new TaskWrapper(true, false, ContextObserver.NONE);

		@Bean
		TaskWrapper ownTaskWrapper() {
			return WRAPPER;
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class OwnTaskDecorator {

		static final ContextTaskDecorator DECORATOR = new ContextTaskDecorator(
				new TaskWrapper(false, false, ContextObserver.NONE), "own");

		@Bean
		ContextTaskDecorator ownTaskDecorator() {
			return DECORATOR;
		}

	}

}
