package dev.reqctx.test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellableContext;
import dev.reqctx.ContextRuntime;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.UnitOfWork;
import dev.reqctx.task.ContextExecutors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * Tests for {@link ContextLeakExtension}: each example class below leaks one way and must fail
 * with a message that says what leaked and what to change; the clean one must pass. The
 * examples are static nested classes, so the build runs them only through the test kit here.
 */
class ContextLeakExtensionTests {

	private static final ExecutorService POOL = ContextExecutors.wrap(Executors.newSingleThreadExecutor());

	@AfterAll
	static void stopPool() {
		POOL.shutdownNow();
	}

	@Test
	void cleanWorkPasses() {
		Events events = run(CleanWork.class);
		events.assertStatistics((stats) -> stats.started(2).succeeded(2).failed(0));
	}

	@Test
	void failsATestThatLeavesAContextBound() {
		String message = failureOf(LeavesScopeOpen.class);
		assertThat(message).contains("left reqctx work behind")
			.contains("still has context")
			.contains("close the Scope that attach() returned");
		assertThat(Scope.isAnyBound()).as("the binding was cleared for the next test").isFalse();
	}

	@Test
	void failsATestThatLeavesAUnitOfWorkLive() {
		String message = failureOf(LeavesUnitOfWorkOpen.class);
		assertThat(message).contains("WORK 'nightly-export'")
			.contains("is still live in runtime 'global' 100 ms after the test")
			.contains("close the UnitOfWork");
		assertThat(ContextRuntime.global().live().list()).as("cancelled and removed")
			.noneMatch((ctx) -> "nightly-export".equals(String.valueOf(dev.reqctx.spi.Contexts.label(ctx))));
	}

	@Test
	void waitsForWorkThatIsEnding() {
		Events events = run(WorkEndsJustAfterTheTest.class);
		events.assertStatistics((stats) -> stats.succeeded(1).failed(0));
	}

	@Test
	void failsATestThatOrphansATask() {
		String message = failureOf(OrphansATask.class);
		assertThat(message).contains("task '")
			.contains("outlived the work that forked it (forks)")
			.contains("join it, or cancel it, before that work ends");
	}

	@Test
	void failsATestThatMisusesScopes() {
		String message = failureOf(ClosesScopesOutOfOrder.class);
		assertThat(message).contains("misuse(s) reported in runtime 'global'");
	}

	private static String failureOf(Class<?> example) {
		Events events = run(example);
		events.assertStatistics((stats) -> stats.started(1).failed(1));
		Event failed = events.failed().list().get(0);
		Throwable failure = failed.getPayload(org.junit.platform.engine.TestExecutionResult.class)
			.flatMap(org.junit.platform.engine.TestExecutionResult::getThrowable)
			.orElseThrow();
		assertThat(failure).isInstanceOf(AssertionError.class);
		return failure.getMessage();
	}

	private static Events run(Class<?> example) {
		return EngineTestKit.engine("junit-jupiter").selectors(selectClass(example)).execute().testEvents();
	}

	@NoContextLeaks
	static class CleanWork {

		@Test
		void closesWhatItOpens() {
			try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(5));
					Scope scope = ctx.attach()) {
				assertThat(RequestContext.current().id()).isEqualTo(ctx.id());
			}
		}

		@Test
		void joinsItsTasks() throws Exception {
			try (UnitOfWork work = ContextRuntime.global().work("joined").start()) {
				POOL.submit(() -> RequestContext.current().id()).get(5, TimeUnit.SECONDS);
			}
		}

	}

	@NoContextLeaks
	static class LeavesScopeOpen {

		@Test
		void forgetsToCloseTheScope() {
			CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(5));
			ctx.attach();
		}

	}

	@NoContextLeaks(graceMillis = 100)
	static class LeavesUnitOfWorkOpen {

		@Test
		void forgetsToCloseTheUnitOfWork() throws InterruptedException {
			CountDownLatch started = new CountDownLatch(1);
			Thread worker = new Thread(() -> {
				ContextRuntime.global().work("nightly-export").start(); // never closed
				started.countDown();
			});
			worker.start();
			assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
		}

	}

	@NoContextLeaks
	static class WorkEndsJustAfterTheTest {

		@Test
		void returnsBeforeItsWorkEnds() throws InterruptedException {
			CountDownLatch started = new CountDownLatch(1);
			Thread worker = new Thread(() -> {
				try (UnitOfWork work = ContextRuntime.global().work("finishing").start()) {
					started.countDown();
					Thread.sleep(200); // the work still running as the test returns
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			});
			worker.start();
			assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
		}

	}

	@NoContextLeaks
	static class OrphansATask {

		@Test
		void returnsBeforeItsTaskEnds() throws InterruptedException {
			CountDownLatch running = new CountDownLatch(1);
			try (UnitOfWork work = ContextRuntime.global().work("forks").start()) {
				POOL.submit(() -> {
					running.countDown();
					CountDownLatch cancelled = new CountDownLatch(1);
					RequestContext.current().onCancel(cancelled::countDown);
					cancelled.await(5, TimeUnit.SECONDS);
					return null;
				});
				assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
			}
		}

	}

	@NoContextLeaks
	static class ClosesScopesOutOfOrder {

		@Test
		void closesTheOuterScopeFirst() {
			try (CancellableContext outer = RequestContext.root().withCancel();
					CancellableContext inner = RequestContext.root().withCancel()) {
				Scope outerScope = outer.attach();
				Scope innerScope = inner.attach();
				outerScope.close();
				innerScope.close();
			}
		}

	}

}
