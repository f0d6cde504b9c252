package dev.reqctx.benchmarks.load;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.reqctx.CancellableContext;
import dev.reqctx.RequestContext;

/**
 * How late deadlines fire: the time from a context's deadline to its cancel listener running
 * (the timer thread hands the expiry to the cancel executor, which runs the listener), for
 * {@code FIRED} deadlines of 5 to 200 ms, while {@code IN_FLIGHT} contexts with ten-minute
 * deadlines stay pending and a thread churns short-lived requests (a 10 s deadline, cancelled
 * at once, as a request that finishes) at up to 100,000 a second, as a busy service does.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.reqctx.benchmarks.load.TimerLateness [FIRED] [IN_FLIGHT]
 * </pre>
 *
 * Prints p50, p99 and the maximum lateness in microseconds, and the churn rate.
 */
public final class TimerLateness {

	private TimerLateness() {
	}

	public static void main(String[] args) throws Exception {
		int fired = (args.length > 0) ? Integer.parseInt(args[0]) : 3000;
		int inFlight = (args.length > 1) ? Integer.parseInt(args[1]) : 10_000;
		List<CancellableContext> pending = new ArrayList<>();
		for (int i = 0; i < inFlight; i++) {
			pending.add(RequestContext.root().withTimeout(Duration.ofMinutes(10)));
		}
		AtomicBoolean churning = new AtomicBoolean(true);
		AtomicInteger churned = new AtomicInteger();
		List<Thread> churners = new ArrayList<>();
		for (int t = 0; t < 1; t++) {
			Thread churner = new Thread(() -> {
				while (churning.get()) {
					for (int i = 0; i < 100; i++) {
						RequestContext.root().withTimeout(Duration.ofSeconds(10)).close();
					}
					churned.addAndGet(100);
					try {
						Thread.sleep(1);
					}
					catch (InterruptedException ex) {
						return;
					}
				}
			}, "churn-" + t);
			churner.setDaemon(true);
			churner.start();
			churners.add(churner);
		}
		// Warm-up round, then the measured one.
		measure(fired / 3);
		long churnStart = System.nanoTime();
		int churnBefore = churned.get();
		long[] late = measure(fired);
		double churnRate = (churned.get() - churnBefore) / ((System.nanoTime() - churnStart) / 1e9);
		churning.set(false);
		for (Thread churner : churners) {
			churner.join();
		}
		pending.forEach(CancellableContext::cancel);
		Arrays.sort(late);
		System.out.printf("deadlines fired %d (5-200 ms) with %d pending and %.0f requests/s churning: lateness p50 %d us,"
				+ " p99 %d us, max %d us%n", late.length, inFlight, churnRate, late[late.length / 2] / 1000,
				late[(int) (late.length * 0.99)] / 1000, late[late.length - 1] / 1000);
	}

	private static long[] measure(int count) throws InterruptedException {
		long[] late = new long[count];
		CountDownLatch done = new CountDownLatch(count);
		for (int i = 0; i < count; i++) {
			int index = i;
			CancellableContext ctx = RequestContext.root()
				.withTimeout(Duration.ofMillis(5 + ThreadLocalRandom.current().nextInt(196)));
			long due = ctx.deadline().orElseThrow().nanoTime();
			ctx.onCancel(() -> {
				late[index] = System.nanoTime() - due;
				done.countDown();
			});
			if ((i & 15) == 0) {
				Thread.sleep(1); // spread over the run: the timer's wake-ups change as they arrive
			}
		}
		if (!done.await(60, TimeUnit.SECONDS)) {
			throw new IllegalStateException("deadlines did not fire within 60 s");
		}
		return late;
	}

}
