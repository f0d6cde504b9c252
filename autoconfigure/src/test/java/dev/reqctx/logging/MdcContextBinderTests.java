package dev.reqctx.logging;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.reqctx.CancellableContext;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.ThreadContextBinder;
import dev.reqctx.task.TaskWrapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link MdcContextBinder}.
 */
class MdcContextBinderTests {

	private final MdcContextBinder binder = new MdcContextBinder();

	@AfterEach
	void clear() {
		MDC.clear();
	}

	@Test
	void bindingShowsTheContextAndRestoringBringsBackExactlyWhatWasThere() {
		MDC.put(MdcContextBinder.REQUEST_ID, "outer");
		MDC.put(MdcContextBinder.TRACE_ID, "outer-trace");
		MDC.put("user", "alice");
		RequestContext ctx = RequestContext.root().withValue(StandardKeys.REQUEST_ID, "inner");
		try (ThreadContextBinder.Restore restore = this.binder.bind(ctx)) {
			assertThat(MDC.get(MdcContextBinder.REQUEST_ID)).isEqualTo("inner");
			assertThat(MDC.get(MdcContextBinder.TRACE_ID)).as("the context has no trace id").isNull();
			assertThat(MDC.get(MdcContextBinder.DEADLINE)).as("the context has no deadline").isNull();
			assertThat(MDC.get("user")).isEqualTo("alice");
		}
		assertThat(MDC.getCopyOfContextMap()).containsOnly(Map.entry(MdcContextBinder.REQUEST_ID, "outer"),
				Map.entry(MdcContextBinder.TRACE_ID, "outer-trace"), Map.entry("user", "alice"));
	}

	@Test
	void theDeadlineIsAnEpochMillisecondThatStaysPutWhenAskedFor() {
		long before = System.currentTimeMillis();
		MDC.put(MdcContextBinder.DEADLINE, "outer-deadline");
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(5));
				ThreadContextBinder.Restore restore = new MdcContextBinder(true).bind(ctx)) {
			long deadline = Long.parseLong(MDC.get(MdcContextBinder.DEADLINE));
			assertThat(deadline).isBetween(before + 4_000, System.currentTimeMillis() + 5_000);
		}
		assertThat(MDC.get(MdcContextBinder.DEADLINE)).isEqualTo("outer-deadline");
	}

	@Test
	void byDefaultTheDeadlineIsNeitherBoundNorTouched() {
		MDC.put(MdcContextBinder.DEADLINE, "the application's own");
		try (CancellableContext ctx = RequestContext.root()
			.withValue(StandardKeys.REQUEST_ID, "r")
			.withTimeout(Duration.ofSeconds(5)); ThreadContextBinder.Restore restore = this.binder.bind(ctx)) {
			assertThat(MDC.get(MdcContextBinder.REQUEST_ID)).isEqualTo("r");
			assertThat(MDC.get(MdcContextBinder.DEADLINE)).isEqualTo("the application's own");
		}
		assertThat(MDC.getCopyOfContextMap()).containsOnly(Map.entry(MdcContextBinder.DEADLINE, "the application's own"));
	}

	@Test
	void nestedBindingsUnwindInOrder() {
		RequestContext outer = RequestContext.root().withValue(StandardKeys.REQUEST_ID, "a");
		RequestContext inner = RequestContext.root().withValue(StandardKeys.REQUEST_ID, "b");
		try (ThreadContextBinder.Restore first = this.binder.bind(outer)) {
			try (ThreadContextBinder.Restore second = this.binder.bind(inner)) {
				assertThat(MDC.get(MdcContextBinder.REQUEST_ID)).isEqualTo("b");
			}
			assertThat(MDC.get(MdcContextBinder.REQUEST_ID)).isEqualTo("a");
		}
		assertThat(MDC.getCopyOfContextMap()).isNullOrEmpty();
	}

	@Test
	void aTaskWrapperShowsTheTasksContextAndRestoresTheWorkersMdc() {
		TaskWrapper tasks = new TaskWrapper(false, false, ContextObserver.NONE, this.binder);
		List<String> seen = new ArrayList<>();
		try (CancellableContext request = RequestContext.root()
			.withValue(StandardKeys.REQUEST_ID, "req-1")
			.withTimeout(Duration.ofSeconds(5))) {
			Runnable task;
			try (Scope scope = request.attach()) {
				task = tasks.wrap((Runnable) () -> seen.add(MDC.get(MdcContextBinder.REQUEST_ID)), "t");
			}
			MDC.put(MdcContextBinder.REQUEST_ID, "worker-own");
			task.run(); // here, standing in for a worker thread with an MDC of its own
			assertThat(MDC.get(MdcContextBinder.REQUEST_ID)).isEqualTo("worker-own");
		}
		assertThat(seen).containsExactly("req-1");
	}

	@Test
	void combinedBindersRestoreInReverseOrder() {
		List<String> events = new ArrayList<>();
		ThreadContextBinder a = (ctx) -> {
			events.add("bind a");
			return () -> events.add("restore a");
		};
		ThreadContextBinder b = (ctx) -> {
			events.add("bind b");
			return () -> events.add("restore b");
		};
		ThreadContextBinder.of(List.of(a, b)).bind(RequestContext.root()).close();
		assertThat(events).containsExactly("bind a", "bind b", "restore b", "restore a");
		assertThat(ThreadContextBinder.of(List.of())).isSameAs(ThreadContextBinder.NONE);
	}

}
