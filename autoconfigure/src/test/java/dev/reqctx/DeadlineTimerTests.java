package dev.reqctx;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import dev.reqctx.spi.Contexts;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link DeadlineTimer}: the heap stays well formed under any order of schedules and
 * removals, and every deadline fires, never early, whatever the order it was scheduled in.
 */
class DeadlineTimerTests {

	private static final Random RANDOM = new Random(20261122L);

	@Test
	void theHeapStaysWellFormedUnderRandomSchedulesAndRemovals() {
		int before = DeadlineTimer.pending();
		List<CancellableContext> live = new ArrayList<>();
		for (int step = 0; step < 20_000; step++) {
			if (live.isEmpty() || RANDOM.nextInt(100) < 55) {
				// Far away, so none fires during the test; some equal, some earlier than all.
				long minutes = switch (RANDOM.nextInt(4)) {
					case 0 -> 10;
					case 1 -> 5 + RANDOM.nextInt(100);
					case 2 -> 200 - step / 200;
					default -> 1_000 + RANDOM.nextInt(1_000_000);
				};
				live.add(RequestContext.root().withTimeout(Duration.ofMinutes(minutes)));
			}
			else {
				// Mostly the newest or a random one (requests), sometimes the root of a stripe.
				int index = switch (RANDOM.nextInt(3)) {
					case 0 -> live.size() - 1;
					case 1 -> RANDOM.nextInt(live.size());
					default -> earliestIndex(live);
				};
				live.remove(index).cancel();
			}
			if (step % 500 == 0) {
				DeadlineTimer.verify();
				assertThat(DeadlineTimer.pending() - before).isEqualTo(live.size());
			}
		}
		DeadlineTimer.verify();
		assertThat(DeadlineTimer.pending() - before).isEqualTo(live.size());
		for (CancellableContext ctx : live) {
			ctx.cancel();
		}
		DeadlineTimer.verify();
		assertThat(DeadlineTimer.pending()).isEqualTo(before);
	}

	@Test
	void concurrentSchedulesAndRemovalsLeaveNothingBehind() throws Exception {
		// The timer is the JVM's: other tests' deadlines come and go meanwhile, so this checks
		// its own contexts, not the pending count.
		List<CancellableContext> created = java.util.Collections.synchronizedList(new ArrayList<>());
		ExecutorService pool = Executors.newFixedThreadPool(4);
		try {
			List<Future<?>> done = new ArrayList<>();
			for (int t = 0; t < 4; t++) {
				long seed = t;
				done.add(pool.submit(() -> {
					Random random = new Random(seed);
					List<CancellableContext> mine = new ArrayList<>();
					for (int i = 0; i < 50_000; i++) {
						if (mine.size() < 64 && (mine.isEmpty() || random.nextBoolean())) {
							CancellableContext ctx = RequestContext.root()
								.withTimeout(Duration.ofMinutes(1 + random.nextInt(60)));
							mine.add(ctx);
							created.add(ctx);
						}
						else {
							mine.remove(random.nextInt(mine.size())).close();
						}
					}
					mine.forEach(CancellableContext::close);
					return null;
				}));
			}
			for (Future<?> f : done) {
				f.get(60, TimeUnit.SECONDS);
			}
		}
		finally {
			pool.shutdownNow();
		}
		DeadlineTimer.verify();
		assertThat(created).isNotEmpty();
		assertThat(DeadlineTimer.anyScheduled(new ArrayList<>(created))).isFalse();
	}

	@Test
	void everyDeadlineFiresNeverEarlyWhateverTheOrderItWasScheduledIn() throws Exception {
		int count = 300;
		Map<CancellableContext, Long> firedAt = new ConcurrentHashMap<>();
		List<CancellableContext> contexts = new ArrayList<>();
		List<CancellableContext> removed = new ArrayList<>();
		CountDownLatch fired = new CountDownLatch(count - count / 3);
		// Long-lived ones first, so the short deadlines keep replacing the heap's root.
		List<CancellableContext> longLived = new ArrayList<>();
		for (int i = 0; i < 1_000; i++) {
			longLived.add(RequestContext.root().withTimeout(Duration.ofMinutes(10)));
		}
		try {
			for (int i = 0; i < count; i++) {
				CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(20 + RANDOM.nextInt(400)));
				if (i % 3 == 0) {
					removed.add(ctx);
				}
				else {
					ctx.onCancel(() -> {
						firedAt.put(ctx, System.nanoTime());
						fired.countDown();
					});
				}
				contexts.add(ctx);
			}
			for (CancellableContext ctx : removed) {
				ctx.cancel();
			}
			assertThat(fired.await(30, TimeUnit.SECONDS)).as("every deadline fired").isTrue();
			for (CancellableContext ctx : contexts) {
				if (removed.contains(ctx)) {
					assertThat(ctx.cause()).isEqualTo(CancellationCause.CANCELLED);
					continue;
				}
				assertThat(ctx.cause()).isEqualTo(CancellationCause.DEADLINE_EXCEEDED);
				long due = ctx.effectiveDeadline().nanoTime();
				assertThat(firedAt.get(ctx) - due).as("fired at or after its deadline").isGreaterThanOrEqualTo(0);
			}
			DeadlineTimer.verify();
			for (CancellableContext ctx : longLived) {
				assertThat(ctx.isCancelled()).isFalse();
			}
		}
		finally {
			longLived.forEach(CancellableContext::cancel);
		}
	}

	@Test
	void aLiveRootsDistantDeadlineWaitsInTheLiveContextsAndStillFiresOnTime() throws Exception {
		ContextRuntime runtime = new ContextRuntime("watched", 16, false);
		int count = 40;
		Map<CancellableContext, Long> firedAt = new ConcurrentHashMap<>();
		CountDownLatch fired = new CountDownLatch(count);
		List<CancellableContext> roots = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			// All further away than WATCH_BEYOND_NANOS (300 ms): none is handed to the timer.
			CancellableContext root = Contexts.newLiveRoot(runtime, RequestContext.root(), ContextKind.REQUEST, "r" + i,
					400 + RANDOM.nextInt(600), TimeUnit.MILLISECONDS);
			root.onCancel(() -> {
				firedAt.put(root, System.nanoTime());
				fired.countDown();
			});
			roots.add(root);
		}
		assertThat(DeadlineTimer.anyScheduled(roots)).as("no distant deadline is in the heap yet").isFalse();
		assertThat(roots).allMatch((root) -> (int) root.timerState == DeadlineTimer.WATCHED);
		assertThat(fired.await(30, TimeUnit.SECONDS)).as("every deadline fired").isTrue();
		for (CancellableContext root : roots) {
			assertThat(root.cause()).isEqualTo(CancellationCause.DEADLINE_EXCEEDED);
			long late = firedAt.get(root) - root.effectiveDeadline().nanoTime();
			// It reached the heap a look before it was due, so it fires as precisely as a pushed
			// one: margin for two loaded cores.
			assertThat(late).as("fired at or after its deadline").isGreaterThanOrEqualTo(0);
			assertThat(TimeUnit.NANOSECONDS.toMillis(late)).as("lateness in ms").isLessThan(250);
		}
		DeadlineTimer.verify();
		roots.forEach(Contexts::unregister);
		assertThat(runtime.live().size()).isZero();
	}

	@Test
	void aWatchedRootThatLeavesTheLiveContextsUncancelledIsHandedToTheTimer() throws Exception {
		ContextRuntime runtime = new ContextRuntime("left", 16, false);
		CancellableContext root = Contexts.newLiveRoot(runtime, RequestContext.root(), ContextKind.REQUEST, "left",
				500, TimeUnit.MILLISECONDS);
		CountDownLatch fired = new CountDownLatch(1);
		root.onCancel(fired::countDown);
		Contexts.unregister(root);
		assertThat(DeadlineTimer.isScheduled(root)).as("in the heap once it left the live contexts").isTrue();
		assertThat(fired.await(10, TimeUnit.SECONDS)).isTrue();
		assertThat(root.cause()).isEqualTo(CancellationCause.DEADLINE_EXCEEDED);
	}

	@Test
	void requestsThatEndBeforeTheirDeadlineNeverReachTheTimer() {
		ContextRuntime runtime = new ContextRuntime("short", 16, false);
		List<CancellableContext> ended = new ArrayList<>();
		for (int i = 0; i < 2_000; i++) {
			CancellableContext root = Contexts.newLiveRoot(runtime, RequestContext.root(), ContextKind.REQUEST, "r",
					30, TimeUnit.SECONDS);
			root.cancel(CancellationCause.COMPLETED);
			Contexts.unregister(root);
			ended.add(root);
		}
		assertThat(ended).allMatch((root) -> (int) root.timerState == DeadlineTimer.WATCHED);
		assertThat(DeadlineTimer.anyScheduled(ended)).isFalse();
		DeadlineTimer.verify();
	}

	@Test
	void aShortDeadlineOfALiveRootIsHandedToTheTimerAtOnce() {
		ContextRuntime runtime = new ContextRuntime("near", 16, false);
		CancellableContext root = Contexts.newLiveRoot(runtime, RequestContext.root(), ContextKind.REQUEST, "near",
				250, TimeUnit.MILLISECONDS);
		try {
			assertThat(DeadlineTimer.isScheduled(root)).isTrue();
		}
		finally {
			root.cancel();
			Contexts.unregister(root);
		}
	}

	@Test
	void theAgeWatchIsToldOfAnOldRequestAndNotOfEndedOnes() throws Exception {
		ContextRuntime runtime = new ContextRuntime("aged", 16, false);
		List<Long> toldAt = new java.util.concurrent.CopyOnWriteArrayList<>();
		CountDownLatch told = new CountDownLatch(1);
		try (AutoCloseable watch = Contexts.watchAge(runtime, Duration.ofMillis(50), () -> {
			toldAt.add(System.nanoTime());
			told.countDown();
		})) {
			// Ended requests, and a job: never reported.
			for (int i = 0; i < 100; i++) {
				CancellableContext ended = Contexts.newLiveRoot(runtime, RequestContext.root(), ContextKind.REQUEST,
						"ended", 30, TimeUnit.SECONDS);
				ended.cancel(CancellationCause.COMPLETED);
				Contexts.unregister(ended);
			}
			CancellableContext job = Contexts.newLiveRoot(runtime, RequestContext.root(), ContextKind.JOB, "job",
					Long.MAX_VALUE, TimeUnit.NANOSECONDS);
			// Three looks of the timer with only the job in flight.
			DeadlineTimer.pending();
			long quietUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(350);
			while (System.nanoTime() < quietUntil) {
				assertThat(toldAt).as("told with no request in flight").isEmpty();
				Thread.sleep(20);
			}
			long started = System.nanoTime();
			CancellableContext request = Contexts.newLiveRoot(runtime, RequestContext.root(), ContextKind.REQUEST,
					"old", Long.MAX_VALUE, TimeUnit.NANOSECONDS);
			try {
				assertThat(told.await(5, TimeUnit.SECONDS)).isTrue();
				long after = TimeUnit.NANOSECONDS.toMillis(toldAt.get(0) - started);
				// At least the age; at most the age and one look (100 ms), with margin.
				assertThat(after).isBetween(50L, 1_000L);
			}
			finally {
				request.cancel();
				Contexts.unregister(request);
				job.cancel();
				Contexts.unregister(job);
			}
		}
	}

	private static int earliestIndex(List<CancellableContext> live) {
		int best = 0;
		for (int i = 1; i < live.size(); i++) {
			if (live.get(i).effectiveDeadline().isBefore(live.get(best).effectiveDeadline())) {
				best = i;
			}
		}
		return best;
	}

}
