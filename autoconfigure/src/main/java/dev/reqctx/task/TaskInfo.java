package dev.reqctx.task;

import java.util.ArrayList;
import java.util.List;

/**
 * The label of a task's context: its name and, when stacks are captured, where it was
 * submitted.
 *
 * @param name the task's name
 * @param submittedBy the thread that submitted it
 * @param submittedAt where it was submitted, {@code null} unless stacks are captured
 */
public record TaskInfo(String name, String submittedBy, Throwable submittedAt) {

	private static final Class<?>[] INTERNAL = { TaskWrapper.class, ContextExecutors.class, ContextFutures.class,
			ContextTaskDecorator.class };

	/**
	 * Returns the submission stack as text, without reqctx's own frames.
	 * @return the frames, empty unless stacks are captured
	 */
	public List<String> submissionStack() {
		if (this.submittedAt == null) {
			return List.of();
		}
		StackTraceElement[] frames = this.submittedAt.getStackTrace();
		int first = 0;
		while (first < frames.length && isInternal(frames[first].getClassName())) {
			first++;
		}
		List<String> result = new ArrayList<>();
		for (int i = first; i < frames.length && result.size() < 32; i++) {
			result.add(frames[i].toString());
		}
		return result;
	}

	/** reqctx's own frames on top of the stack say nothing about who submitted the task. */
	private static boolean isInternal(String className) {
		for (Class<?> internal : INTERNAL) {
			String name = internal.getName();
			if (className.equals(name) || (className.startsWith(name) && className.charAt(name.length()) == '$')) {
				return true;
			}
		}
		return className.startsWith("org.springframework.core.task.")
				|| className.startsWith("org.springframework.scheduling.concurrent.");
	}

	@Override
	public String toString() {
		return this.name;
	}

}
