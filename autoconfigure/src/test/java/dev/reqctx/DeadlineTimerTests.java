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
