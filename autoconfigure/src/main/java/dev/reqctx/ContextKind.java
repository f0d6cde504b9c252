package dev.reqctx;

/**
 * What a {@link CancellableContext} stands for, as shown in the live tree.
 */
public enum ContextKind {

	/** An inbound request (a root of the live tree). */
	REQUEST,

	/** A task forked from a request onto another thread. */
	TASK,

	/** A child scope created by application code ({@code withTimeout}, {@code withCancel}). */
	SCOPE

}
