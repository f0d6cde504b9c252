package dev.reqctx.spi;

import dev.reqctx.CancellableContext;
import dev.reqctx.RequestContext;

/**
 * Told when a task outlives the context that forked it (see
 * {@link Contexts#newTask(RequestContext, Object, OrphanHandler, boolean)}).
 */
@FunctionalInterface
public interface OrphanHandler {

	/**
	 * Called once, on the thread that completes the parent, before the task is cancelled (or
	 * left running). Must be quick.
	 * @param task the orphaned task's context
	 */
	void orphaned(CancellableContext task);

}
