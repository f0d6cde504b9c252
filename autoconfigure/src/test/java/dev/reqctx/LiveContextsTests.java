package dev.reqctx;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import dev.reqctx.spi.Contexts;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link LiveContexts}: a thread's first root is registered in the thread's home, any
 * other one in the stripes, and every reader (listing, count, lookup, the timer's look) sees both;
 * a home is freed by whichever thread ends its root, once, and threads that end leave no home
 * behind.
 */
class LiveContextsTests {

	private static CancellableContext newRoot(ContextRuntime runtime, String label) {
		return Contexts.newLiveRoot(runtime, RequestContext.root(), ContextKind.REQUEST, label, 30,
				TimeUnit.SECONDS);
	}

	private static void end(CancellableContext root) {
		root.cancel(CancellationCause.COMPLETED);
		Contexts.unregister(root);
	}

	@Test
	void aThreadsFirstRootLivesInItsHomeTheNextInAStripeAndReadersSeeBoth() {
		ContextRuntime runtime = new ContextRuntime("homes", 16, false);
		LiveContexts live = runtime.live();
		CancellableContext first = newRoot(runtime, "first");
		CancellableContext second = newRoot(runtime, "second");
		try {
			assertThat(first.home).as("the thread's first root is in its home").isNotNull();
			assertThat(second.home).as("the home is taken: the next root goes to a stripe").isNull();
			assertThat(live.size()).isEqualTo(2);
			assertThat(live.isEmpty()).isFalse();
			assertThat(live.list()).containsExactlyInAnyOrder(first, second);
			assertThat(live.find(first.id())).isSameAs(first);
			assertThat(live.find(second.id())).isSameAs(second);
			// Another application's registry does not see this one's roots.
			assertThat(new ContextRuntime("other", 16, false).live().list()).doesNotContain(first, second);
		}
		finally {
			end(first);
			end(second);
		}
		assertThat(live.size()).isZero();
		assertThat(live.isEmpty()).isTrue();
		assertThat(live.list()).isEmpty();
		CancellableContext third = newRoot(runtime, "third");
		try {
			assertThat(third.home).as("the home was freed").isNotNull();
		}
		finally {
			end(third);
		}
	}

	@Test
	void registeringAndUnregisteringTwiceChangeNothing() {
		ContextRuntime runtime = new ContextRuntime("twice", 16, false);
		CancellableContext root = newRoot(runtime, "twice");
		Contexts.register(root);
		assertThat(runtime.live().list()).containsExactly(root);
		end(root);
		Contexts.unregister(root);
		assertThat(runtime.live().size()).isZero();
	}

	@Test
	void aRootEndedOnAnotherThreadFreesTheHomeOfTheThreadThatStartedIt() throws Exception {
		ContextRuntime runtime = new ContextRuntime("async", 16, false);
		ExecutorService starter = Executors.newSingleThreadExecutor();
		try {
			CancellableContext asyncRoot = starter.submit(() -> newRoot(runtime, "async")).get(10, TimeUnit.SECONDS);
			assertThat(asyncRoot.home).isNotNull();
			// While it is in flight, the starting thread's next request goes to a stripe.
			CancellableContext meanwhile = starter.submit(() -> newRoot(runtime, "meanwhile")).get(10, TimeUnit.SECONDS);
			assertThat(meanwhile.home).isNull();
			assertThat(runtime.live().list()).containsExactlyInAnyOrder(asyncRoot, meanwhile);
			end(asyncRoot); // on this thread, as an async request ends on a container thread
			end(meanwhile);
			assertThat(runtime.live().size()).isZero();
			CancellableContext next = starter.submit(() -> newRoot(runtime, "next")).get(10, TimeUnit.SECONDS);
			assertThat(next.home).as("the starting thread's home is free again").isNotNull();
			end(next);
		}
		finally {
			starter.shutdownNow();
		}
	}

	@Test
	void concurrentRegistrationsEndsAndReadsLoseNothingAndLeaveNothing() throws Exception {
		ContextRuntime runtime = new ContextRuntime("storm", 16, false);
		LiveContexts live = runtime.live();
		int threads = 4;
		int rounds = 2_000;
		ExecutorService pool = Executors.newFixedThreadPool(threads + 2);
		AtomicBoolean running = new AtomicBoolean(true);
		AtomicReference<String> lost = new AtomicReference<>();
		CyclicBarrier start = new CyclicBarrier(threads);
		try {
			// A reader that lists and counts all the time, as the endpoint and the timer do.
			Future<?> reader = pool.submit(() -> {
				while (running.get()) {
					live.forEach((root) -> assertThat(root.runtime).isSameAs(runtime));
					assertThat(live.size()).isBetween(0, threads * 3);
				}
				return null;
			});
			List<Future<?>> workers = new ArrayList<>();
			for (int t = 0; t < threads; t++) {
				workers.add(pool.submit(() -> {
					start.await(10, TimeUnit.SECONDS);
					List<Thread> racers = new ArrayList<>();
					ThreadLocalRandom random = ThreadLocalRandom.current();
					for (int i = 0; i < rounds; i++) {
						CancellableContext root = newRoot(runtime, "r");
						CancellableContext inner = random.nextInt(8) == 0 ? newRoot(runtime, "inner") : null;
						if (!live.list().contains(root) || (inner != null && !live.list().contains(inner))) {
							lost.compareAndSet(null, "a registered root was not listed");
						}
						if (random.nextBoolean()) {
							// Two threads end it at once (an async completion racing an error path);
							// the other one may still be at it while this thread starts its next root.
							CountDownLatch go = new CountDownLatch(1);
							Thread other = new Thread(() -> {
								awaitQuietly(go);
								end(root);
							});
							other.start();
							racers.add(other);
							go.countDown();
							end(root);
						}
						else {
							end(root);
						}
						if (inner != null) {
							end(inner);
						}
						if (live.list().contains(root)) {
							lost.compareAndSet(null, "an ended root was still listed");
						}
					}
					for (Thread racer : racers) {
						racer.join(10_000);
					}
					return null;
				}));
			}
			for (Future<?> worker : workers) {
				worker.get(120, TimeUnit.SECONDS);
			}
			running.set(false);
			reader.get(10, TimeUnit.SECONDS);
		}
		finally {
			running.set(false);
			pool.shutdownNow();
		}
		assertThat(lost.get()).isNull();
		assertThat(live.size()).isZero();
		assertThat(live.list()).isEmpty();
	}

	@Test
	void threadsThatEndedLeaveNoHomeBehind() throws Exception {
		ContextRuntime runtime = new ContextRuntime("churn", 16, false);
		int before = LiveContexts.Home.all.length;
		for (int i = 0; i < 200; i++) {
			Thread thread = new Thread(() -> end(newRoot(runtime, "short-lived")));
			thread.start();
			thread.join(10_000);
		}
		// A new thread's home is added after the ended threads' empty ones were dropped.
		Thread last = new Thread(() -> end(newRoot(runtime, "last")));
		last.start();
		last.join(10_000);
		assertThat(LiveContexts.Home.all.length).as("homes kept: those of live threads, and the last thread's")
			.isLessThanOrEqualTo(before + 1);
	}

	private static void awaitQuietly(CountDownLatch latch) {
		try {
			latch.await(10, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
