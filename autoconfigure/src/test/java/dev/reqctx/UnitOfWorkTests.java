package dev.reqctx;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import dev.reqctx.spi.Contexts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Tests for {@link UnitOfWork}: roots started by application code get a request's guarantees.
 */
class UnitOfWorkTests {

	private static final ContextKey<String> TENANT = ContextKey.named("tenant");

	private final ContextRuntime runtime = new ContextRuntime("unit-of-work-tests", 10, false);

	@AfterEach
	void threadIsLeftClean() {
		assertThat(Scope.isAnyBound()).as("a test left a context bound").isFalse();
		assertThat(this.runtime.live().size()).as("a test left a unit of work live").isZero();
	}

	@Test
	void runsBoundToTheThreadAndListedUntilClosed() {
		UnitOfWork work = this.runtime.work("export-orders")
			.kind(ContextKind.JOB)
			.timeout(Duration.ofMinutes(5))
			.value(TENANT, "acme")
			.start();
		CancellableContext ctx = work.context();
		try {
			RequestContext current = RequestContext.current();
			assertThat(current.id()).isEqualTo(ctx.id());
			assertThat(current.get(TENANT)).isEqualTo("acme");
			assertThat(current.remaining()).hasValueSatisfying((left) -> assertThat(left)
				.isGreaterThan(Duration.ofMinutes(4)).isLessThanOrEqualTo(Duration.ofMinutes(5)));
			assertThat(ctx.kind()).isEqualTo(ContextKind.JOB);
			assertThat(Contexts.label(ctx)).hasToString("export-orders");
			assertThat(Contexts.runtime(ctx)).isSameAs(this.runtime);
			assertThat(this.runtime.live().find(ctx.id())).isSameAs(ctx);
			assertThat(ContextRuntime.global().live().find(ctx.id())).as("not another runtime's").isNull();
		}
		finally {
			work.close();
		}
		assertThat(RequestContext.current()).isSameAs(RequestContext.root());
		assertThat(ctx.cause()).isEqualTo(CancellationCause.COMPLETED);
		assertThat(this.runtime.live().find(ctx.id())).isNull();
		work.close(); // a second close does nothing
		assertThat(ctx.cause()).isEqualTo(CancellationCause.COMPLETED);
	}

	@Test
	void restoresTheContextBoundBeforeIt() {
		try (CancellableContext outer = RequestContext.root().withCancel(); Scope scope = outer.attach()) {
			try (UnitOfWork work = this.runtime.work("nested").start()) {
				assertThat(RequestContext.current().id()).isEqualTo(work.context().id());
				assertThat(outer.isCancelled()).isFalse();
			}
			assertThat(RequestContext.current().id()).isEqualTo(outer.id());
			assertThat(outer.isCancelled()).as("a unit of work is a root: its end is not its caller's").isFalse();
		}
	}

	@Test
	void isCancelledAtItsDeadline() throws InterruptedException {
		try (UnitOfWork work = this.runtime.work("short").timeout(Duration.ofMillis(50)).start()) {
			CountDownLatch cancelled = new CountDownLatch(1);
			work.context().onCancel(cancelled::countDown);
			assertThat(cancelled.await(10, TimeUnit.SECONDS)).as("the deadline fired").isTrue();
			assertThat(RequestContext.current().cause()).isEqualTo(CancellationCause.DEADLINE_EXCEEDED);
		}
	}

	@Test
	void takesAFixedDeadline() {
		Deadline deadline = Deadline.after(Duration.ofSeconds(30));
		try (UnitOfWork work = this.runtime.work("fixed").deadline(deadline).start()) {
			assertThat(work.context().deadline()).contains(deadline);
		}
	}

	@Test
	void withoutATimeoutHasNoDeadline() {
		try (UnitOfWork work = this.runtime.work("open-ended").start()) {
			assertThat(work.context().deadline()).isEmpty();
			assertThat(work.context().kind()).isEqualTo(ContextKind.WORK);
		}
	}

	@Test
	void anOperatorCanCancelItThroughTheLiveTree() {
		try (UnitOfWork work = this.runtime.work("cancel-me").start()) {
			this.runtime.live().find(work.context().id()).cancel();
			assertThat(RequestContext.current().isCancelled()).isTrue();
			assertThat(RequestContext.current().cause()).isEqualTo(CancellationCause.CANCELLED);
		}
	}

	@Test
	void unfinishedTasksAreOrphansWhenItEnds() {
		List<CancellableContext> orphans = new ArrayList<>();
		AtomicReference<CancellationCause> taskCause = new AtomicReference<>();
		CancellableContext task;
		try (UnitOfWork work = this.runtime.work("forks").start()) {
			task = Contexts.newTask(RequestContext.current(), "left-behind", orphans::add, false);
			task.onCancel(() -> taskCause.set(task.cause()));
			CancellableContext done = Contexts.newTask(RequestContext.current(), "finished", orphans::add, false);
			Contexts.finish(done);
		}
		assertThat(orphans).containsExactly(task);
		assertThat(taskCause.get()).isEqualTo(CancellationCause.COMPLETED);
	}

	@Test
	void closedOnAnotherThreadItEndsButOnlyItsOwnThreadUnbindsIt() throws Exception {
		UnitOfWork work = this.runtime.work("handed-over").start();
		CancellableContext ctx = work.context();
		Thread closer = new Thread(work::close);
		closer.start();
		closer.join(10_000);
		assertThat(ctx.cause()).as("the work ended").isEqualTo(CancellationCause.COMPLETED);
		assertThat(this.runtime.live().find(ctx.id())).isNull();
		assertThat(RequestContext.current().id()).as("this thread's binding was not touched from there")
			.isEqualTo(ctx.id());
		work.close();
		assertThat(Scope.isAnyBound()).isFalse();
	}

	@Test
	void refusesKindsThatAreNotRoots() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.runtime.work("x").kind(ContextKind.TASK))
			.withMessageContaining("TASK is not a root kind");
		assertThatIllegalArgumentException().isThrownBy(() -> this.runtime.work(" "))
			.withMessageContaining("blank");
		assertThatIllegalArgumentException().isThrownBy(() -> this.runtime.work("x").timeout(Duration.ZERO))
			.withMessageContaining("positive");
	}

}
