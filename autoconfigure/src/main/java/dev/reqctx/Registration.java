package dev.reqctx;

/**
 * A listener registered with {@link RequestContext#onCancel(Runnable)}; remove it when the work
 * it guards is done so that long-lived contexts do not accumulate listeners.
 */
@FunctionalInterface
public interface Registration extends AutoCloseable {

	/** A registration that does nothing (for contexts that can never be cancelled). */
	Registration NONE = () -> true;

	/**
	 * Removes the listener.
	 * @return {@code true} if the listener will never run, {@code false} if it already ran or
	 * is running
	 */
	boolean remove();

	/** Same as {@link #remove()}, for try-with-resources. */
	@Override
	default void close() {
		remove();
	}

}
