package dev.reqctx.autoconfigure;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.reflect.Method;

import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;

import org.springframework.aop.interceptor.AsyncUncaughtExceptionHandler;
import org.springframework.aop.interceptor.SimpleAsyncUncaughtExceptionHandler;

/**
 * Handles what a {@code void} {@code @Async} method throws: a failure because its context was
 * cancelled is expected (an orphan that reqctx stops when its request ends, a task past its
 * deadline), so it is one line without a stack, or nothing more than the orphan's own WARN;
 * every other failure goes to Spring's handler (an ERROR with the stack), as before.
 */
final class CancelledAsyncTaskHandler implements AsyncUncaughtExceptionHandler {

	private static final Logger LOGGER = System.getLogger(CancelledAsyncTaskHandler.class.getName());

	private final AsyncUncaughtExceptionHandler delegate;

	CancelledAsyncTaskHandler() {
		this(new SimpleAsyncUncaughtExceptionHandler());
	}

	CancelledAsyncTaskHandler(AsyncUncaughtExceptionHandler delegate) {
		this.delegate = delegate;
	}

	@Override
	public void handleUncaughtException(Throwable ex, Method method, Object... params) {
		ContextCancelledException cancelled = ContextCancelledException.findIn(ex);
		if (cancelled == null) {
			this.delegate.handleUncaughtException(ex, method, params);
			return;
		}
		String where = method.getDeclaringClass().getSimpleName() + "." + method.getName();
		if (cancelled.getCancellationCause() == CancellationCause.COMPLETED) {
			// Orphaned on purpose: the orphan report already said so, once, at WARN.
			LOGGER.log(Level.DEBUG, () -> "@Async " + where + " stopped: its request had ended");
			return;
		}
		LOGGER.log(Level.WARNING, () -> "@Async " + where + " stopped: " + cancelled.getMessage());
	}

}
