package dev.reqctx;

import java.util.concurrent.Executor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where cancellation work runs.
 *
 * <p>Deadlines fire on one timer thread, which hands each expired context to this executor.
 * Integrations whose cancel action blocks (PostgreSQL's cancel opens a new connection; a lost
 * cancel is retried) submit that action here too, so one slow cancel never delays another.
 * Threads are daemons, created on demand and retired after 30 s idle.
 */
public final class Cancellations {

	private static final ThreadPoolExecutor EXECUTOR = createExecutor();

	private Cancellations() {
	}

	/**
	 * Returns the shared executor for cancellation work.
	 * @return the executor
	 */
	public static Executor executor() {
		return EXECUTOR;
	}

	private static ThreadPoolExecutor createExecutor() {
		AtomicInteger count = new AtomicInteger();
		ThreadPoolExecutor executor = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
				new SynchronousQueue<>(), (runnable) -> {
					Thread thread = new Thread(runnable, "reqctx-cancel-" + count.incrementAndGet());
					thread.setDaemon(true);
					return thread;
				});
		return executor;
	}

}
