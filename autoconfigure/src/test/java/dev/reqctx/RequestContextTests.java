package dev.reqctx;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.Operation;
import dev.reqctx.spi.RequestInfo;
import dev.reqctx.spi.RootFailureListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link RequestContext} and {@link CancellableContext}: the semantics of the core.
 */
class RequestContextTests {

	private static final ContextKey<String> TENANT = ContextKey.named("tenant");

	@AfterEach
	void threadIsLeftClean() {
		assertThat(Scope.isAnyBound()).as("a test left a context bound").isFalse();
	}

	@Test
	void codeThatReadsTheCurrentContextCannotCancelIt() {
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMinutes(1));
				Scope scope = ctx.attach()) {
			RequestContext current = RequestContext.current();
			assertThat(current).isNotInstanceOf(CancellableContext.class);
			assertThat(current.withValue(TENANT, "acme")).isNotInstanceOf(CancellableContext.class);
			assertThat(current.id()).isEqualTo(ctx.id());
			assertThat(current.deadline()).isEqualTo(ctx.deadline());
			// Nothing public on a plain RequestContext hands out the context it reads.
			for (java.lang.reflect.Method method : RequestContext.class.getMethods()) {
				if (method.getDeclaringClass() == RequestContext.class
						&& CancellableContext.class.isAssignableFrom(method.getReturnType())) {
					assertThat(method.getName()).as("only new children are cancellable")
						.isIn("withCancel", "withTimeout", "withDeadline");
				}
			}
			ctx.cancel();
			assertThat(current.isCancelled()).as("the view shares the context's cancellation").isTrue();
			assertThat(current.cause()).isEqualTo(CancellationCause.CANCELLED);
		}
	}

	@Test
	void theUntrackedOperationIsStateless() {
		Operation first = Contexts.startOperation(RequestContext.root(), "jdbc", "SELECT 1", null);
		Operation second = Contexts.startOperation(RequestContext.root().detached(), "http", "GET /", null);
		assertThat(first).isSameAs(Operation.UNTRACKED).isSameAs(second);
		for (int i = 0; i < 3; i++) {
			assertThat(first.remove()).as("every caller's remove says its cancel never ran").isTrue();
			first.close();
		}
		assertThat(second.remove()).isTrue();
		assertThat(second.wasCancelled()).isFalse();
		assertThat(second.cancelSignalNanos()).isZero();
	}

	@Test
	void currentIsTheRootWhenNothingIsAttached() {
		RequestContext current = RequestContext.current();
		assertThat(current).isSameAs(RequestContext.root());
		assertThat(current.isCancelled()).isFalse();
		assertThat(current.deadline()).isEmpty();
		assertThat(current.remainingNanos()).isEqualTo(Long.MAX_VALUE);
	}

	@Test
	void cancellingAParentCancelsEveryDescendantWithTheParentsCause() {
		CancellableContext parent = RequestContext.root().withCancel();
		CancellableContext child = parent.withCancel();
		RequestContext valueChild = child.withValue(TENANT, "acme");
		CancellableContext grandchild = valueChild.withTimeout(Duration.ofMinutes(1));
		parent.cancel(CancellationCause.CLIENT_GONE);
		assertThat(child.cause()).isEqualTo(CancellationCause.CLIENT_GONE);
		assertThat(valueChild.cause()).isEqualTo(CancellationCause.CLIENT_GONE);
		assertThat(grandchild.cause()).isEqualTo(CancellationCause.CLIENT_GONE);
		assertThat(DeadlineTimer.pending()).as("the grandchild's timer is released").isZero();
	}

	@Test
	void cancellationCascadesWithoutAnyListener() {
		CancellableContext parent = RequestContext.root().withCancel();
		List<CancellableContext> children = new ArrayList<>();
		for (int i = 0; i < 100; i++) {
			children.add(parent.withCancel());
		}
		parent.cancel();
		assertThat(children).allMatch(RequestContext::isCancelled);
	}

	@Test
	void cancellingAChildLeavesTheParentAlone() {
		CancellableContext parent = RequestContext.root().withCancel();
		CancellableContext child = parent.withCancel();
		AtomicInteger parentListener = new AtomicInteger();
		parent.onCancel(parentListener::incrementAndGet);
		child.cancel(CancellationCause.CANCELLED);
		assertThat(child.isCancelled()).isTrue();
		assertThat(parent.isCancelled()).isFalse();
		assertThat(parentListener).hasValue(0);
		assertThat(parent.children()).as("the cancelled child unlinked itself").isEmpty();
		parent.close();
	}

	@Test
	void earlierParentDeadlineTakesPrecedenceOverLaterChildDeadline() {
		CancellableContext parent = RequestContext.root().withTimeout(Duration.ofMillis(100));
		CancellableContext child = parent.withTimeout(Duration.ofMinutes(10));
		assertThat(child.deadline()).contains(parent.deadline().orElseThrow());
		assertThat(child.remainingNanos()).isLessThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
		assertThat(child.timed).as("the child needs no timer of its own").isFalse();
		awaitCancelled(child, Duration.ofSeconds(5));
		assertThat(child.cause()).isEqualTo(CancellationCause.DEADLINE_EXCEEDED);
	}

	@Test
	void earlierChildDeadlineFiresWhileTheParentGoesOn() {
		CancellableContext parent = RequestContext.root().withTimeout(Duration.ofMinutes(10));
		CancellableContext child = parent.withTimeout(Duration.ofMillis(50));
		awaitCancelled(child, Duration.ofSeconds(5));
		assertThat(child.cause()).isEqualTo(CancellationCause.DEADLINE_EXCEEDED);
		assertThat(parent.isCancelled()).isFalse();
		parent.close();
	}

	@Test
	void deadlineFiresCloseToItsTime() {
		long start = System.nanoTime();
		CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(100));
		CountDownLatch fired = new CountDownLatch(1);
		AtomicReference<Long> firedAt = new AtomicReference<>();
		ctx.onCancel(() -> {
			firedAt.set(System.nanoTime());
			fired.countDown();
		});
		awaitLatch(fired, Duration.ofSeconds(5));
		long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(firedAt.get() - start);
		assertThat(elapsedMillis).isBetween(100L, 2_000L);
		assertThat(ctx.cause()).isEqualTo(CancellationCause.DEADLINE_EXCEEDED);
	}

	@Test
	void anExpiredDeadlineCancelsAtOnce() {
		CancellableContext ctx = RequestContext.root().withDeadline(Deadline.after(Duration.ofMillis(-1)));
		assertThat(ctx.isCancelled()).isTrue();
		assertThat(ctx.cause()).isEqualTo(CancellationCause.DEADLINE_EXCEEDED);
		assertThatExceptionOfType(DeadlineExceededException.class).isThrownBy(ctx::throwIfCancelled)
			.withMessageContaining(ctx.id())
			.withMessageContaining("DEADLINE_EXCEEDED");
		CancellableContext zero = RequestContext.root().withTimeout(Duration.ZERO);
		assertThat(zero.cause()).isEqualTo(CancellationCause.DEADLINE_EXCEEDED);
		assertThat(DeadlineTimer.pending()).isZero();
	}

	@Test
	void theFirstCauseWinsAndCancelIsIdempotent() {
		CancellableContext ctx = RequestContext.root().withCancel();
		AtomicInteger runs = new AtomicInteger();
		ctx.onCancel(runs::incrementAndGet);
		assertThat(ctx.cancel(CancellationCause.CANCELLED)).isTrue();
		assertThat(ctx.cancel(CancellationCause.DEADLINE_EXCEEDED)).isFalse();
		assertThat(ctx.cancel(CancellationCause.CANCELLED)).isFalse();
		ctx.close();
		assertThat(ctx.cause()).isEqualTo(CancellationCause.CANCELLED);
		assertThat(runs).hasValue(1);
	}

	@Test
	void aListenerAddedToACancelledContextRunsImmediatelyExactlyOnce() {
		CancellableContext ctx = RequestContext.root().withCancel();
		ctx.cancel();
		AtomicInteger runs = new AtomicInteger();
		Registration registration = ctx.onCancel(runs::incrementAndGet);
		assertThat(runs).hasValue(1);
		ctx.cancel();
		assertThat(registration.remove()).as("it already ran").isFalse();
		assertThat(runs).hasValue(1);
	}

	@Test
	void aRemovedListenerNeverRuns() {
		CancellableContext ctx = RequestContext.root().withCancel();
		AtomicInteger runs = new AtomicInteger();
		Registration registration = ctx.onCancel(runs::incrementAndGet);
		assertThat(registration.remove()).isTrue();
		ctx.cancel();
		assertThat(runs).hasValue(0);
	}

	@Test
	void aFailingListenerDoesNotStopTheOthers() {
		CancellableContext ctx = RequestContext.root().withCancel();
		AtomicInteger runs = new AtomicInteger();
		long failuresBefore = ContextRuntime.global().diagnostics().listenerFailureCount();
		ctx.onCancel(runs::incrementAndGet);
		ctx.onCancel(() -> {
			throw new IllegalStateException("boom");
		});
		ctx.onCancel(runs::incrementAndGet);
		ctx.cancel();
		assertThat(runs).hasValue(2);
		assertThat(ContextRuntime.global().diagnostics().listenerFailureCount()).isEqualTo(failuresBefore + 1);
	}

	@Test
	void detachedKeepsValuesAndDropsDeadlineAndCancellation() {
		CancellableContext ctx = RequestContext.root().withValue(TENANT, "acme").withTimeout(Duration.ofSeconds(5));
		RequestContext detached = ctx.detached();
		ctx.cancel();
		assertThat(detached.get(TENANT)).isEqualTo("acme");
		assertThat(detached.isCancelled()).isFalse();
		assertThat(detached.deadline()).isEmpty();
		assertThat(detached.isCancellable()).isFalse();
		detached.throwIfCancelled();
		CancellableContext child = detached.withCancel();
		assertThat(child.isCancelled()).as("a child of a detached context is not cancelled by the original").isFalse();
		child.close();
	}

	@Test
	void valuesAreTypedImmutableAndComparedByKeyIdentity() {
		ContextKey<String> otherTenant = ContextKey.named("tenant");
		RequestContext base = RequestContext.root().withValue(TENANT, "acme");
		RequestContext shadowed = base.withValue(TENANT, "globex");
		assertThat(base.get(TENANT)).isEqualTo("acme");
		assertThat(shadowed.get(TENANT)).isEqualTo("globex");
		assertThat(shadowed.get(otherTenant)).isNull();
		assertThat(RequestContext.root().get(TENANT)).isNull();
		assertThat(shadowed.values()).containsEntry(TENANT, "globex").hasSize(1);
	}

	@Test
	void withValueSharesTheParentsCancellation() {
		CancellableContext ctx = RequestContext.root().withCancel();
		RequestContext withValue = ctx.withValue(TENANT, "acme");
		assertThat(withValue.id()).isEqualTo(ctx.id());
		ctx.cancel();
		assertThat(withValue.isCancelled()).isTrue();
	}

	@Test
	void scopeCloseRestoresThePreviousContext() {
		RequestContext outer = RequestContext.root().withValue(TENANT, "outer");
		RequestContext inner = RequestContext.root().withValue(TENANT, "inner");
		try (Scope o = outer.attach()) {
			assertThat(TENANT.get()).isEqualTo("outer");
			try (Scope i = inner.attach()) {
				assertThat(RequestContext.current()).isSameAs(inner);
			}
			assertThat(RequestContext.current()).isSameAs(outer);
		}
		assertThat(RequestContext.current()).isSameAs(RequestContext.root());
	}

	@Test
	void aScopeClosedOutOfOrderIsReportedAndTheThreadIsNotCorrupted() {
		RequestContext a = RequestContext.root().withValue(TENANT, "a");
		RequestContext b = RequestContext.root().withValue(TENANT, "b");
		long before = ContextRuntime.global().diagnostics().misuseCount();
		Scope outer = a.attach();
		Scope inner = b.attach();
		outer.close();
		assertThat(ContextRuntime.global().diagnostics().misuseCount()).isEqualTo(before + 1);
		assertThat(ContextRuntime.global().diagnostics().lastMisuse()).contains("out of order");
		assertThat(RequestContext.current()).as("the outer close unwound both").isSameAs(RequestContext.root());
		inner.close();
		assertThat(ContextRuntime.global().diagnostics().misuseCount()).isEqualTo(before + 2);
		assertThat(RequestContext.current()).as("the stale inner close changed nothing").isSameAs(RequestContext.root());
		try (Scope again = b.attach()) {
			inner.close();
			assertThat(RequestContext.current()).as("a stale close never pops a newer scope").isSameAs(b);
		}
	}

	@Test
	void aScopeClosedOnAnotherThreadIsReportedAndChangesNeitherThread() throws Exception {
		RequestContext ctx = RequestContext.root().withValue(TENANT, "acme");
		long before = ContextRuntime.global().diagnostics().misuseCount();
		Scope scope = ctx.attach();
		ExecutorService other = Executors.newSingleThreadExecutor();
		try {
			RequestContext seenThere = other.submit(() -> {
				scope.close();
				return RequestContext.current();
			}).get(5, TimeUnit.SECONDS);
			assertThat(seenThere).isSameAs(RequestContext.root());
		}
		finally {
			other.shutdownNow();
		}
		assertThat(ContextRuntime.global().diagnostics().misuseCount()).isEqualTo(before + 1);
		assertThat(ContextRuntime.global().diagnostics().lastMisuse()).contains("not on the thread that attached it");
		assertThat(RequestContext.current()).as("still bound here").isSameAs(ctx);
		scope.close();
		assertThat(RequestContext.current()).isSameAs(RequestContext.root());
	}

	@Test
	void aScopeClosedTwiceIsReportedOnce() {
		long before = ContextRuntime.global().diagnostics().misuseCount();
		Scope scope = RequestContext.root().withValue(TENANT, "x").attach();
		scope.close();
		scope.close();
		assertThat(ContextRuntime.global().diagnostics().misuseCount()).isEqualTo(before + 1);
		assertThat(RequestContext.current()).isSameAs(RequestContext.root());
	}

	@Test
	void strictModeReportsAContextLeftBoundWithWhereItWasAttached() {
		ContextRuntime strict = new ContextRuntime("strict", ContextRuntime.DEFAULT_ORPHAN_HISTORY, true);
		ContextDiagnostics diagnostics = strict.diagnostics();
		try (CancellableContext leaked = leakAScope(strict)) {
			assertThat(diagnostics.checkThreadClean("the next task")).isFalse();
			assertThat(diagnostics.lastMisuse()).contains("still had").contains("the next task");
			assertThat(diagnostics.lastMisuseSite().getStackTrace()[3].getMethodName()).isEqualTo("leakAScope");
			assertThat(Scope.isAnyBound()).as("the check cleared the binding").isFalse();
			assertThat(diagnostics.checkThreadClean("the next task")).isTrue();
		}
	}

	@Test
	void wrapRunsTheTaskInTheContextAndRestoresTheThread() throws Exception {
		RequestContext ctx = RequestContext.root().withValue(TENANT, "acme");
		AtomicReference<String> seen = new AtomicReference<>();
		ctx.wrap(() -> seen.set(TENANT.get())).run();
		assertThat(seen).hasValue("acme");
		assertThat(ctx.wrap(() -> TENANT.get()).call()).isEqualTo("acme");
		assertThat(RequestContext.current()).isSameAs(RequestContext.root());
	}

	@Test
	void tenThousandContextsCreatedAndFinishedLeaveNoTimersAndNoRegistryEntries() {
		ContextRuntime runtime = new ContextRuntime("test", ContextRuntime.DEFAULT_ORPHAN_HISTORY, false);
		// Its own contexts, not the JVM-wide pending count, which other tests' deadlines change.
		java.util.List<CancellableContext> created = new java.util.ArrayList<>();
		for (int i = 0; i < 10_000; i++) {
			CancellableContext request = Contexts.newRoot(runtime, RequestContext.root(), ContextKind.REQUEST,
					new RequestInfo("GET", "/x"), 30, TimeUnit.SECONDS);
			Contexts.register(request);
			CancellableContext child = request.withTimeout(Duration.ofSeconds(10));
			child.onCancel(() -> {
			});
			request.close();
			Contexts.unregister(request);
			created.add(request);
			created.add(child);
		}
		assertThat(DeadlineTimer.anyScheduled(created)).isFalse();
		assertThat(runtime.live().size()).isZero();
	}

	@Test
	void manyStatementsOnALongRequestDoNotAccumulateListeners() {
		CancellableContext request = RequestContext.root().withTimeout(Duration.ofMinutes(1));
		for (int i = 0; i < 10_000; i++) {
			try (Operation op = Contexts.startOperation(request, "jdbc", "SELECT 1", (cause) -> {
			})) {
				assertThat(op.wasCancelled()).isFalse();
			}
		}
		assertThat(Contexts.tree(request).operations()).isEmpty();
		request.close();
	}

	@Test
	void concurrentCancelFromManyThreadsRunsEachListenerOnce() throws Exception {
		int threads = 8;
		ExecutorService pool = Executors.newFixedThreadPool(threads);
		try {
			for (int round = 0; round < 200; round++) {
				CancellableContext ctx = RequestContext.root().withCancel();
				AtomicInteger first = new AtomicInteger();
				AtomicInteger second = new AtomicInteger();
				ctx.onCancel(first::incrementAndGet);
				CancellableContext child = ctx.withCancel();
				child.onCancel(second::incrementAndGet);
				CyclicBarrier start = new CyclicBarrier(threads);
				List<Future<Boolean>> results = new ArrayList<>();
				for (int t = 0; t < threads; t++) {
					CancellationCause cause = CancellationCause.values()[t % 4];
					results.add(pool.submit(() -> {
						start.await(5, TimeUnit.SECONDS);
						return ctx.cancel(cause);
					}));
				}
				int winners = 0;
				for (Future<Boolean> result : results) {
					winners += result.get(5, TimeUnit.SECONDS) ? 1 : 0;
				}
				assertThat(winners).isEqualTo(1);
				assertThat(first).hasValue(1);
				assertThat(second).hasValue(1);
				assertThat(child.cause()).isEqualTo(ctx.cause());
			}
		}
		finally {
			pool.shutdownNow();
		}
	}

	@Test
	void listenersRegisteredWhileCancellingRunExactlyOnce() throws Exception {
		ExecutorService pool = Executors.newFixedThreadPool(2);
		try {
			for (int round = 0; round < 500; round++) {
				CancellableContext ctx = RequestContext.root().withCancel();
				AtomicInteger runs = new AtomicInteger();
				CyclicBarrier start = new CyclicBarrier(2);
				Future<?> register = pool.submit(() -> {
					start.await(5, TimeUnit.SECONDS);
					ctx.onCancel(runs::incrementAndGet);
					return null;
				});
				Future<?> cancel = pool.submit(() -> {
					start.await(5, TimeUnit.SECONDS);
					ctx.cancel();
					return null;
				});
				register.get(5, TimeUnit.SECONDS);
				cancel.get(5, TimeUnit.SECONDS);
				assertThat(runs).hasValue(1);
			}
		}
		finally {
			pool.shutdownNow();
		}
	}

	@Test
	void theCancelledExceptionSaysWhichContextWhyAndForHowLong() {
		CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMinutes(1));
		ctx.cancel(CancellationCause.CANCELLED);
		ContextCancelledException ex = Contexts.cancellationException(ctx, null);
		assertThat(ex).isNotInstanceOf(DeadlineExceededException.class);
		assertThat(ex.getMessage()).matches("Request context " + ctx.id() + " was cancelled \\(CANCELLED\\) after \\d+ ms");
		assertThat(ex.getContextId()).isEqualTo(ctx.id());
		assertThat(ex.getCancellationCause()).isEqualTo(CancellationCause.CANCELLED);
		assertThat(ContextCancelledException.findIn(new RuntimeException(new IllegalStateException(ex)))).isSameAs(ex);
		// A scope on the root without a deadline records no start (a clock read is most of its
		// cost), so its exception says no duration; one under a cancellable parent does.
		CancellableContext scope = RequestContext.root().withCancel();
		scope.cancel();
		ContextCancelledException unclocked = Contexts.cancellationException(scope, null);
		assertThat(unclocked.getMessage()).isEqualTo("Request context " + scope.id() + " was cancelled (CANCELLED)");
		assertThat(unclocked.getElapsedMillis()).isNegative();
		CancellableContext child = ctx.withCancel();
		assertThat(Contexts.cancellationException(child, null).getMessage()).matches(".* after \\d+ ms");
	}

	@Test
	void operationsShowInTheSnapshotUntilClosedAndAreCancelledWithTheContext() {
		CancellableContext ctx = RequestContext.root().withCancel();
		AtomicReference<CancellationCause> seen = new AtomicReference<>();
		Operation op = Contexts.startOperation(ctx, "jdbc", "SELECT pg_sleep(?)", seen::set);
		assertThat(Contexts.tree(ctx).operations()).singleElement()
			.satisfies((s) -> assertThat(s.description()).isEqualTo("SELECT pg_sleep(?)"));
		ctx.cancel(CancellationCause.CANCELLED);
		assertThat(seen).hasValue(CancellationCause.CANCELLED);
		assertThat(op.wasCancelled()).isTrue();
		assertThat(op.cancelSignalNanos()).isPositive();
		assertThat(op.remove()).isFalse();
	}

	@Test
	void theRootCannotBeCancelledAndCostsNothingToQuery() {
		RequestContext root = RequestContext.root();
		assertThat(root.onCancel(() -> {
		})).isSameAs(Registration.NONE);
		assertThat(Contexts.startOperation(root, "jdbc", "x", null).remove()).isTrue();
		assertThat(Contexts.cancellationException(root, null)).isNull();
		root.throwIfCancelled();
	}

	private static CancellableContext leakAScope(ContextRuntime runtime) {
		CancellableContext leaked = Contexts.newRoot(runtime, RequestContext.root().withValue(TENANT, "leaked"),
				ContextKind.REQUEST, "leak", 1, TimeUnit.MINUTES);
		leaked.attach();
		return leaked;
	}

	private static void awaitCancelled(RequestContext ctx, Duration timeout) {
		CountDownLatch latch = new CountDownLatch(1);
		ctx.onCancel(latch::countDown);
		awaitLatch(latch, timeout);
	}

	private static void awaitLatch(CountDownLatch latch, Duration timeout) {
		try {
			assertThat(latch.await(timeout.toMillis(), TimeUnit.MILLISECONDS)).as("waited %s", timeout).isTrue();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new AssertionError(ex);
		}
	}

	@Test
	void rootFailureListenersHearEachFailedRootOnceAndNeitherChildrenNorCompletions() {
		ContextRuntime runtime = new ContextRuntime("root-failure", 10, false);
		List<String> heard = new ArrayList<>();
		RootFailureListener listener = (root, cause) -> heard.add(root.get(TENANT) + " " + cause);
		Contexts.addRootFailureListener(runtime, listener);
		Contexts.addRootFailureListener(runtime, listener); // the same listener again: still one
		// A listener that throws is counted as a failed cancel listener and stops nothing.
		Contexts.addRootFailureListener(runtime, (root, cause) -> {
			throw new IllegalStateException("boom");
		});
		CancellableContext failed = Contexts.newLiveRoot(runtime, RequestContext.root().withValue(TENANT, "a"),
				ContextKind.REQUEST, "GET /a", 30, TimeUnit.SECONDS);
		CancellableContext child = failed.withCancel();
		AtomicInteger childListener = new AtomicInteger();
		child.onCancel(childListener::incrementAndGet);
		failed.cancel(CancellationCause.CANCELLED);
		failed.cancel(CancellationCause.DEADLINE_EXCEEDED);
		Contexts.unregister(failed);
		CancellableContext completed = Contexts.newLiveRoot(runtime, RequestContext.root().withValue(TENANT, "b"),
				ContextKind.REQUEST, "GET /b", 30, TimeUnit.SECONDS);
		completed.withCancel().cancel(CancellationCause.DEADLINE_EXCEEDED);
		completed.cancel(CancellationCause.COMPLETED);
		Contexts.unregister(completed);
		assertThat(heard).containsExactly("a CANCELLED");
		assertThat(child.isCancelled()).isTrue();
		assertThat(childListener).hasValue(1);
		assertThat(runtime.diagnostics().listenerFailureCount()).isEqualTo(1);
	}

	@Test
	void aHiddenKeysValueIsReadableByItsHolderButNotListed() {
		ContextKey<Object> hidden = Contexts.hiddenKey("secret");
		Object value = new Object();
		RequestContext ctx = RequestContext.root().withValue(TENANT, "a").withValue(hidden, value);
		assertThat(ctx.get(hidden)).isSameAs(value);
		assertThat(ctx.values()).containsOnlyKeys(TENANT);
	}

}
