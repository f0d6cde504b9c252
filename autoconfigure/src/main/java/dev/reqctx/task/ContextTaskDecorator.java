package dev.reqctx.task;

import java.util.Objects;

import org.springframework.core.task.TaskDecorator;

/**
 * A {@link TaskDecorator} that runs each task in a child of the submitting request's context
 * (see {@link TaskWrapper}). Spring Boot composes it with the other {@code TaskDecorator} beans
 * (context propagation, MDC, security) on its auto-configured executor, so {@code @Async}
 * methods follow their request with no code.
 */
public final class ContextTaskDecorator implements TaskDecorator {

	private final TaskWrapper tasks;

	private final String name;

	/**
	 * Creates a decorator.
	 * @param tasks how tasks run
	 * @param name the name tasks get in the live tree
	 */
	public ContextTaskDecorator(TaskWrapper tasks, String name) {
		this.tasks = Objects.requireNonNull(tasks, "tasks must not be null");
		this.name = Objects.requireNonNull(name, "name must not be null");
	}

	@Override
	public Runnable decorate(Runnable runnable) {
		return this.tasks.wrap(runnable, this.name);
	}

}
