package dev.reqctx.spi;

import java.util.List;
import java.util.Objects;

import dev.reqctx.RequestContext;
import dev.reqctx.Scope;

/**
 * Copies what a context says about its work into other thread-bound state while the context
 * runs on a thread, and puts that state back afterwards: typically the logging MDC, so that log
 * lines carry the request id.
 *
 * <p>reqctx's integrations call it wherever they run work in a context on a thread (the servlet
 * filter on the request thread and on async dispatches, the task wrappers on pool threads), and
 * close the returned {@link Restore} on the same thread when the work is done:
 *
 * <pre>
 * try (Scope scope = ctx.attach(); ThreadContextBinder.Restore restore = binder.bind(ctx)) {
 *     work.run();
 * }
 * </pre>
 *
 * Restoring must bring back exactly what the thread had before, not just remove what was
 * added: the work may run nested inside other work that set the same state. Binders run on hot
 * paths and must not throw.
 */
@FunctionalInterface
public interface ThreadContextBinder {

	/** A binder that binds nothing. */
	ThreadContextBinder NONE = (context) -> Restore.NOTHING;

	/**
	 * Binds what the context says to the calling thread.
	 * @param context the context about to run on this thread
	 * @return what puts the thread's previous state back; close it on the same thread
	 */
	Restore bind(RequestContext context);

	/**
	 * Returns a binder that runs the given binders in order and restores in reverse order.
	 * @param binders the binders
	 * @return the combined binder ({@link #NONE} if there are none)
	 */
	static ThreadContextBinder of(List<? extends ThreadContextBinder> binders) {
		Objects.requireNonNull(binders, "binders must not be null");
		List<ThreadContextBinder> copy = List.copyOf(binders);
		if (copy.isEmpty()) {
			return NONE;
		}
		if (copy.size() == 1) {
			return copy.get(0);
		}
		return (context) -> {
			Restore[] restores = new Restore[copy.size()];
			for (int i = 0; i < restores.length; i++) {
				restores[i] = copy.get(i).bind(context);
			}
			return () -> {
				for (int i = restores.length - 1; i >= 0; i--) {
					restores[i].close();
				}
			};
		};
	}

	/**
	 * Puts a thread's state back as it was before a {@link ThreadContextBinder#bind bind}.
	 */
	@FunctionalInterface
	interface Restore extends AutoCloseable {

		/** A restore that does nothing. */
		Restore NOTHING = () -> {
		};

		/**
		 * Puts the state back. Call it once, on the thread that bound.
		 */
		@Override
		void close();

	}

}
