package dev.reqctx.task;

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

	/**
	 * Returns the submission stack as text, without reqctx's own frames.
	 * @return the frames, empty unless stacks are captured
	 */
	public List<String> submissionStack() {
		if (this.submittedAt == null) {
			return List.of();
		}
		return java.util.Arrays.stream(this.submittedAt.getStackTrace())
			.filter((frame) -> !frame.getClassName().startsWith("dev.reqctx.task."))
			.limit(32)
			.map(StackTraceElement::toString)
			.toList();
	}

	@Override
	public String toString() {
		return this.name;
	}

}
