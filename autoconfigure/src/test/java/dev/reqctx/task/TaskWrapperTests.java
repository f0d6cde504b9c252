package dev.reqctx.task;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.ContextKey;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.Deadline;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.ContextTree;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.RequestInfo;
import io.micrometer.context.ContextSnapshotFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link TaskWrapper}, {@link ContextExecutors}, {@link ContextFutures} and the
 * Micrometer accessor, on real thread pools.
 */
class TaskWrapperTests {

	private static final ContextKey<String> TENANT = ContextKey.named("tenant");

	private ExecutorService pool;

	private final AtomicInteger orphanEvents = new AtomicInteger();

	/** Each test has an application of its own, so no test sees another's orphans. */
	private final ContextRuntime runtime = new ContextRuntime("test", ContextRuntime.DEFAULT_ORPHAN_HISTORY, false);

	@BeforeEach
	void setUp() {
		this.pool = ContextExecutors.wrap(Executors.newFixedThreadPool(2));
		new TaskWrapper(true, false, new ContextObserver() {
			@Override
			public void taskOrphaned(CancellableContext task) {
				TaskWrapperTests.this.orphanEvents.incrementAndGet();
			}
		}).install(this.runtime);
	}

	@AfterEach
	void tearDown() throws Exception {
		this.pool.shutdownNow();
		assertThat(this.pool.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
	}

	@Test
	void aTaskSeesTheParentsDeadlineAndValuesAndIsAChildInTheTree() throws Exception {
		CancellableContext request = newRequest(Duration.ofSeconds(5));
		CountDownLatch running = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		Future<String> result;
		try (Scope scope = request.withValue(TENANT, "acme").attach()) {
			result = this.pool.submit(() -> {
				RequestContext ctx = RequestContext.current();
				running.countDown();
				release.await(5, TimeUnit.SECONDS);
				return ctx.get(TENANT) + "|" + ctx.get(StandardKeys.REQUEST_ID) + "|" + ctx.remainingNanos();
			});
		}
		assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
		ContextTree tree = Contexts.tree(request);
		assertThat(tree.children()).singleElement().satisfies((task) -> {
			assertThat(task.kind()).isEqualTo(ContextKind.TASK);
			assertThat(task.thread()).startsWith("pool-");
			assertThat(task.remainingMillis()).isBetween(1L, 5_000L);
		});
		release.countDown();
		String[] seen = result.get(5, TimeUnit.SECONDS).split("\\|");
		assertThat(seen[0]).isEqualTo("acme");
		assertThat(seen[1]).isEqualTo("req-1");
		assertThat(Long.parseLong(seen[2])).isBetween(1L, TimeUnit.SECONDS.toNanos(5));
		assertThat(Contexts.children(request)).as("a finished task leaves the tree").isEmpty();
		finishRequest(request);
		assertThat(this.runtime.orphans().count()).isZero();
	}

	@Test
	void cancellingTheParentCancelsARunningTask() throws Exception {
		CancellableContext request = newRequest(Duration.ofSeconds(5));
		CountDownLatch running = new CountDownLatch(1);
		Future<CancellationCause> result;
		try (Scope scope = request.attach()) {
			result = this.pool.submit(() -> {
				CountDownLatch cancelled = new CountDownLatch(1);
				RequestContext.current().onCancel(cancelled::countDown);
				running.countDown();
				cancelled.await(5, TimeUnit.SECONDS);
				return RequestContext.current().cause();
			});
		}
		assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
		request.cancel(CancellationCause.CANCELLED);
		assertThat(result.get(5, TimeUnit.SECONDS)).isEqualTo(CancellationCause.CANCELLED);
		finishRequest(request);
	}

	@Test
	void aTaskSubmittedWithAnAlreadyCancelledContextNeverRunsItsBody() throws Exception {
		CancellableContext request = newRequest(Duration.ofSeconds(5));
		request.cancel(CancellationCause.CANCELLED);
		AtomicBoolean ran = new AtomicBoolean();
		Future<?> runnable;
		Future<String> callable;
		CompletableFuture<String> future;
		CountDownLatch executed = new CountDownLatch(1);
		try (Scope scope = request.attach()) {
			this.pool.execute(() -> ran.set(true));
			runnable = this.pool.submit(() -> ran.set(true));
			callable = this.pool.submit(() -> {
				ran.set(true);
				return "ran";
			});
			future = ContextFutures.supplyAsync(() -> {
				ran.set(true);
				return "ran";
			}, Executors.newSingleThreadExecutor());
		}
		this.pool.execute(executed::countDown);
		assertThat(executed.await(5, TimeUnit.SECONDS)).isTrue();
		assertThatExceptionOfType(ExecutionException.class).isThrownBy(() -> runnable.get(5, TimeUnit.SECONDS))
			.withCauseInstanceOf(ContextCancelledException.class);
		assertThatExceptionOfType(ExecutionException.class).isThrownBy(() -> callable.get(5, TimeUnit.SECONDS))
			.withCauseInstanceOf(ContextCancelledException.class);
		assertThatExceptionOfType(CompletionException.class).isThrownBy(future::join)
			.withCauseInstanceOf(ContextCancelledException.class);
		assertThat(ran).isFalse();
		finishRequest(request);
	}

	@Test
	void aQueuedTaskWhoseParentIsCancelledBeforeItStartsDoesNotStart() throws Exception {
		ExecutorService single = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
		try {
			CountDownLatch blocker = new CountDownLatch(1);
			single.execute(() -> await(blocker));
			CancellableContext request = newRequest(Duration.ofSeconds(5));
			AtomicBoolean ran = new AtomicBoolean();
			Future<?> queued;
			try (Scope scope = request.attach()) {
				queued = single.submit(() -> ran.set(true));
			}
			assertThat(Contexts.tree(request).children()).singleElement()
				.satisfies((task) -> assertThat(task.thread()).as("queued: no thread yet").isNull());
			request.cancel(CancellationCause.DEADLINE_EXCEEDED);
			blocker.countDown();
			assertThatExceptionOfType(ExecutionException.class).isThrownBy(() -> queued.get(5, TimeUnit.SECONDS))
				.withCauseInstanceOf(ContextCancelledException.class);
			assertThat(ran).isFalse();
			finishRequest(request);
		}
		finally {
			single.shutdownNow();
		}
	}

	@Test
	void aTaskThatOutlivesItsRequestIsRecordedWithItsStackAndCancelled() throws Exception {
		CancellableContext request = newRequest(Duration.ofSeconds(5));
		CountDownLatch running = new CountDownLatch(1);
		AtomicReference<CancellationCause> seen = new AtomicReference<>();
		CountDownLatch done = new CountDownLatch(1);
		try (Scope scope = request.attach()) {
			submitOrphan(running, seen, done);
		}
		assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
		finishRequest(request);
		assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
		assertThat(seen).hasValue(CancellationCause.COMPLETED);
		assertThat(this.runtime.orphans().recent()).singleElement().satisfies((leak) -> {
			assertThat(leak.requestId()).isEqualTo("req-1");
			assertThat(leak.request()).isEqualTo("GET /orphan");
			assertThat(leak.state()).isEqualTo("RUNNING");
			assertThat(leak.action()).isEqualTo("CANCELLED");
			assertThat(leak.forkedAt()).anySatisfy((frame) -> assertThat(frame).contains("submitOrphan"));
		});
		assertThat(this.orphanEvents).hasValue(1);
	}

	@Test
	void inReportModeAnOrphanIsRecordedAndLeftRunning() throws Exception {
		new TaskWrapper(false, true, ContextObserver.NONE).install(this.runtime);
		CancellableContext request = newRequest(Duration.ofSeconds(5));
		CountDownLatch running = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		Future<Boolean> cancelledAtEnd;
		try (Scope scope = request.attach()) {
			cancelledAtEnd = this.pool.submit(() -> {
				running.countDown();
				release.await(5, TimeUnit.SECONDS);
				return RequestContext.current().isCancelled();
			});
		}
		assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
		finishRequest(request);
		release.countDown();
		assertThat(cancelledAtEnd.get(5, TimeUnit.SECONDS)).isFalse();
		assertThat(this.runtime.orphans().recent()).singleElement().satisfies((leak) -> {
			assertThat(leak.action()).isEqualTo("LEFT_RUNNING");
			assertThat(leak.forkedAt()).as("stacks not captured").isEmpty();
		});
	}

	@Test
	void aDetachedTaskIsNeverAnOrphan() throws Exception {
		CancellableContext request = newRequest(Duration.ofSeconds(5));
		CountDownLatch running = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		Future<String> result;
		try (Scope scope = request.withValue(TENANT, "acme").detached().attach()) {
			result = this.pool.submit(() -> {
				running.countDown();
				release.await(5, TimeUnit.SECONDS);
				return TENANT.get() + "|" + RequestContext.current().isCancelled();
			});
		}
		assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
		finishRequest(request);
		release.countDown();
		assertThat(result.get(5, TimeUnit.SECONDS)).isEqualTo("acme|false");
		assertThat(this.runtime.orphans().count()).isZero();
	}

	@Test
	void aCompletableFutureChainSeesTheContextInEveryStage() {
		CancellableContext request = newRequest(Duration.ofSeconds(5));
		ExecutorService plain = Executors.newFixedThreadPool(2);
		try (Scope scope = request.withValue(TENANT, "acme").attach()) {
			CompletableFuture<String> first = ContextFutures.supplyAsync(() -> TENANT.get(), plain);
			CompletableFuture<String> second = ContextFutures.supplyAsync(
					() -> String.valueOf(RequestContext.current().remainingNanos() < TimeUnit.SECONDS.toNanos(5)), plain);
			assertThat(first.thenCombine(second, (a, b) -> a + "|" + b).join()).isEqualTo("acme|true");
		}
		finally {
			plain.shutdownNow();
		}
		finishRequest(request);
	}

	@Test
	void aScheduledTaskRunsInTheContextAndAPeriodicOneStopsWhenTheRequestEnds() throws Exception {
		ScheduledExecutorService scheduler = ContextExecutors.wrap(Executors.newSingleThreadScheduledExecutor());
		try {
			CancellableContext request = newRequest(Duration.ofSeconds(5));
			AtomicInteger runs = new AtomicInteger();
			CountDownLatch twice = new CountDownLatch(2);
			ScheduledFuture<String> once;
			ScheduledFuture<?> periodic;
			try (Scope scope = request.withValue(TENANT, "acme").attach()) {
				once = scheduler.schedule(() -> TENANT.get(), 1, TimeUnit.MILLISECONDS);
				periodic = scheduler.scheduleAtFixedRate(() -> {
					runs.incrementAndGet();
					twice.countDown();
				}, 0, 5, TimeUnit.MILLISECONDS);
			}
			assertThat(once.get(5, TimeUnit.SECONDS)).isEqualTo("acme");
			assertThat(twice.await(5, TimeUnit.SECONDS)).isTrue();
			finishRequest(request);
			assertThatExceptionOfType(ExecutionException.class).isThrownBy(() -> periodic.get(5, TimeUnit.SECONDS))
				.withCauseInstanceOf(ContextCancelledException.class);
		}
		finally {
			scheduler.shutdownNow();
		}
	}

	@Test
	void micrometerContextPropagationCarriesTheRequestContext() throws Exception {
		CancellableContext request = newRequest(Duration.ofSeconds(5));
		ExecutorService plain = Executors.newSingleThreadExecutor();
		try {
			Runnable[] task = new Runnable[1];
			AtomicReference<String> seen = new AtomicReference<>();
			try (Scope scope = request.withValue(TENANT, "acme").attach()) {
				task[0] = ContextSnapshotFactory.builder().build().captureAll().wrap(() -> seen.set(TENANT.get()));
			}
			plain.submit(task[0]).get(5, TimeUnit.SECONDS);
			assertThat(seen).hasValue("acme");
			assertThat(plain.submit(Scope::isAnyBound).get(5, TimeUnit.SECONDS)).as("restored afterwards").isFalse();
		}
		finally {
			plain.shutdownNow();
		}
		finishRequest(request);
	}

	@Test
	void poolThreadsAreLeftCleanAndALeftoverBindingIsClearedBeforeTheNextTask() throws Exception {
		CancellableContext request = newRequest(Duration.ofSeconds(5));
		ExecutorService single = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
		try {
			try (Scope scope = request.attach()) {
				single.submit(() -> RequestContext.current().withValue(TENANT, "leaked").attach()).get(5, TimeUnit.SECONDS);
			}
			assertThat(single.submit(() -> TENANT.get()).get(5, TimeUnit.SECONDS)).isNull();
			assertThat(Executors.newSingleThreadExecutor().submit(Scope::isAnyBound).get(5, TimeUnit.SECONDS)).isFalse();
		}
		finally {
			single.shutdownNow();
		}
		finishRequest(request);
	}

	private void submitOrphan(CountDownLatch running, AtomicReference<CancellationCause> seen, CountDownLatch done) {
		this.pool.execute(() -> {
			CountDownLatch cancelled = new CountDownLatch(1);
			RequestContext.current().onCancel(cancelled::countDown);
			running.countDown();
			await(cancelled);
			seen.set(RequestContext.current().cause());
			done.countDown();
		});
	}

	private CancellableContext newRequest(Duration timeout) {
		return Contexts.newRoot(this.runtime, RequestContext.root().withValue(StandardKeys.REQUEST_ID, "req-1"),
				ContextKind.REQUEST, new RequestInfo("GET", "/orphan"), timeout.toNanos(), TimeUnit.NANOSECONDS);
	}

	private static void finishRequest(CancellableContext request) {
		request.cancel(CancellationCause.COMPLETED);
	}

	private static void await(CountDownLatch latch) {
		try {
			latch.await(5, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
