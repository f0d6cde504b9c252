package dev.reqctx.spi;

import java.util.concurrent.Executor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The executor that cancellation work runs on.
 *
 * <p>Deadlines fire on one timer thread, which hands each expired context to this executor.
 * Integrations whose cancel action blocks (PostgreSQL's cancel opens a new connection; a lost
 * cancel is retried) submit that action here too, so one slow cancel never delays another.
 * Threads are daemons, created on demand and retired after 30 s idle. It is shared by the whole
 * JVM, like the timer: it holds no application state.
 */
public final class CancelExecutor {

	private static final ThreadPoolExecutor EXECUTOR = createExecutor();

	private CancelExecutor() {
	}

	/**
	 * Returns the shared executor for cancellation work.
	 * @return the executor
	 */
	public static Executor shared() {
		return EXECUTOR;
	}

	private static ThreadPoolExecutor createExecutor() {
		AtomicInteger count = new AtomicInteger();
		return new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
				(runnable) -> {
					Thread thread = new Thread(runnable, "reqctx-cancel-" + count.incrementAndGet());
					thread.setDaemon(true);
					return thread;
				});
	}

}
