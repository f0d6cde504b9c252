package dev.reqctx;

/**
 * What a {@link CancellableContext} stands for, as shown in the live tree.
 *
 * <p>{@link #REQUEST}, {@link #JOB}, {@link #MESSAGE} and {@link #WORK} are <em>roots</em>: units
 * of work with a deadline of their own, listed in the live tree, cancellable by an operator, and
 * completed when the work ends (leftover tasks are then reported as orphans). {@link #TASK} and
 * {@link #SCOPE} are always children of another context.
 */
public enum ContextKind {

	/** An inbound request (a root of the live tree). */
	REQUEST,

	/** A scheduled or batch job (a root of the live tree). */
	JOB,

	/** A message taken from a queue or topic by a listener (a root of the live tree). */
	MESSAGE,

	/**
	 * Any other unit of work started by application code with
	 * {@link ContextRuntime#work(String)} (a root of the live tree).
	 */
	WORK,

	/** A task forked from a request onto another thread. */
	TASK,

	/** A child scope created by application code ({@code withTimeout}, {@code withCancel}). */
	SCOPE;

	/**
	 * Whether contexts of this kind are roots: units of work of their own rather than part of
	 * another context's work.
	 * @return {@code true} for {@link #REQUEST}, {@link #JOB}, {@link #MESSAGE} and {@link #WORK}
	 */
	public boolean isRoot() {
		return this != TASK && this != SCOPE;
	}

}
