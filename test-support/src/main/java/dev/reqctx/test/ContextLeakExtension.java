package dev.reqctx.test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellableContext;
import dev.reqctx.ContextDiagnostics;
import dev.reqctx.ContextRuntime;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.spi.ContextTree;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.OrphanHistory;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The extension behind {@link NoContextLeaks}; register it directly to choose the grace period
 * in code:
 *
 * <pre>
 * &#64;RegisterExtension
 * static ContextLeakExtension leaks = new ContextLeakExtension(Duration.ofSeconds(5));
 * </pre>
 */
public class ContextLeakExtension implements BeforeEachCallback, AfterEachCallback {

	private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace
		.create(ContextLeakExtension.class);

	private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

	/** Frames of a submission stack shown per orphan. */
	private static final int ORPHAN_FRAMES = 8;

	private final Duration grace;

	/** Creates the extension with the grace period of {@link NoContextLeaks} (or its default). */
	public ContextLeakExtension() {
		this.grace = null;
	}

	/**
	 * Creates the extension with the given grace period for units of work that are ending.
	 * @param grace how long to wait for them, at most
	 */
	public ContextLeakExtension(Duration grace) {
		Objects.requireNonNull(grace, "grace must not be null");
		if (grace.isNegative()) {
			throw new IllegalArgumentException("grace must not be negative");
		}
		this.grace = grace;
	}

	@Override
	public void beforeEach(ExtensionContext context) {
		List<Baseline> baselines = new ArrayList<>();
		for (ContextRuntime runtime : TestRuntimes.all(context)) {
			baselines.add(Baseline.of(runtime));
		}
		context.getStore(NAMESPACE).put(Before.class, new Before(baselines, RequestContext.current()));
	}

	@Override
	public void afterEach(ExtensionContext context) throws InterruptedException {
		Before before = context.getStore(NAMESPACE).remove(Before.class, Before.class);
		if (before == null) {
			return;
		}
		List<String> problems = new ArrayList<>();
		for (Baseline baseline : before.baselines) {
			misuses(baseline, problems);
		}
		boundContext(before, problems);
		long graceNanos = graceOf(context).toNanos();
		long waitUntil = System.nanoTime() + graceNanos;
		for (Baseline baseline : before.baselines) {
			liveContexts(baseline, waitUntil, graceNanos, problems);
			orphans(baseline, problems);
		}
		if (!problems.isEmpty()) {
			StringBuilder message = new StringBuilder(context.getDisplayName()).append(" left reqctx work behind:");
			for (String problem : problems) {
				message.append("\n  - ").append(problem);
			}
			throw new AssertionError(message.toString());
		}
	}

	private Duration graceOf(ExtensionContext context) {
		if (this.grace != null) {
			return this.grace;
		}
		Optional<NoContextLeaks> annotation = TestAnnotations.find(context, NoContextLeaks.class);
		return Duration.ofMillis(annotation.map(NoContextLeaks::graceMillis).orElse(2000L));
	}

	private static void boundContext(Before before, List<String> problems) {
		if (!Scope.isAnyBound()) {
			return;
		}
		RequestContext bound = RequestContext.current();
		if (bound == before.bound || (before.bound != null && bound.id().equals(before.bound.id()))) {
			return; // bound before the test started: not this test's doing
		}
		problems.add("thread '" + Thread.currentThread().getName() + "' still has context " + bound.id()
				+ " bound: close the Scope that attach() returned, with try-with-resources (the binding is "
				+ "cleared now)");
		// Reported above; this also clears it, so that the next test starts clean.
		ContextRuntime.global().diagnostics().checkThreadClean("the next test");
	}

	private static void misuses(Baseline baseline, List<String> problems) {
		ContextDiagnostics diagnostics = baseline.runtime.diagnostics();
		long misuses = diagnostics.misuseCount() - baseline.misuses;
		if (misuses > 0) {
			problems.add(misuses + " misuse(s) reported in runtime '" + baseline.runtime.name() + "', the last: "
					+ diagnostics.lastMisuse()
					+ (diagnostics.isStrict() ? "" : " (set reqctx.strict=true to record where scopes are attached)"));
		}
	}

	private static void liveContexts(Baseline baseline, long waitUntil, long graceNanos, List<String> problems)
			throws InterruptedException {
		List<CancellableContext> left = baseline.newSince();
		while (!left.isEmpty() && waitUntil - System.nanoTime() > 0) {
			TimeUnit.NANOSECONDS.sleep(POLL_NANOS); // polling the registry: nothing to wait on
			left = baseline.newSince();
		}
		for (CancellableContext ctx : left) {
			ContextTree tree = Contexts.tree(ctx);
			StringBuilder problem = new StringBuilder();
			problem.append(ctx.kind()).append(" '").append(tree.label()).append("' (context ").append(ctx.id())
				.append(", ").append(tree.ageMillis()).append(" ms old");
			if (!tree.operations().isEmpty()) {
				problem.append(", running ");
				for (int i = 0; i < tree.operations().size(); i++) {
					ContextTree.OperationView op = tree.operations().get(i);
					problem.append((i > 0) ? "; " : "").append(op.kind()).append(' ').append(op.description());
				}
			}
			problem.append(") is still live in runtime '").append(baseline.runtime.name()).append("' ")
				.append(TimeUnit.NANOSECONDS.toMillis(graceNanos))
				.append(" ms after the test: close the UnitOfWork, or let the request end, before the test "
						+ "returns (it is cancelled now)");
			problems.add(problem.toString());
			ctx.cancel();
			Contexts.unregister(ctx);
		}
	}

	private static void orphans(Baseline baseline, List<String> problems) {
		OrphanHistory history = baseline.runtime.orphans();
		long count = history.count() - baseline.orphans;
		if (count <= 0) {
			return;
		}
		List<OrphanHistory.Orphan> recent = history.recent();
		for (int i = 0; i < Math.min(count, recent.size()); i++) {
			OrphanHistory.Orphan orphan = recent.get(i);
			StringBuilder problem = new StringBuilder("task '").append(orphan.name()).append("' (context ")
				.append(orphan.contextId()).append(", ").append(orphan.state().toLowerCase())
				.append(") outlived the work that forked it");
			if (orphan.request() != null) {
				problem.append(" (").append(orphan.request()).append(')');
			}
			problem.append(" in runtime '").append(baseline.runtime.name()).append("' and was ")
				.append(orphan.action().toLowerCase().replace('_', ' '))
				.append(": join it, or cancel it, before that work ends");
			List<String> forkedAt = orphan.forkedAt();
			if (forkedAt != null && !forkedAt.isEmpty()) {
				problem.append("; submitted at:");
				for (int f = 0; f < Math.min(ORPHAN_FRAMES, forkedAt.size()); f++) {
					problem.append("\n        at ").append(forkedAt.get(f));
				}
			}
			else {
				problem.append(" (set reqctx.task.capture-stacks=true to see where it was submitted)");
			}
			problems.add(problem.toString());
		}
		if (count > recent.size()) {
			problems.add((count - recent.size()) + " more orphan(s), beyond the history's capacity");
		}
	}

	/** What a runtime held when the test started. */
	private record Baseline(ContextRuntime runtime, Set<CancellableContext> live, long orphans, long misuses) {

		static Baseline of(ContextRuntime runtime) {
			Set<CancellableContext> live = Collections.newSetFromMap(new IdentityHashMap<>());
			live.addAll(runtime.live().list());
			return new Baseline(runtime, live, runtime.orphans().count(), runtime.diagnostics().misuseCount());
		}

		List<CancellableContext> newSince() {
			List<CancellableContext> added = new ArrayList<>();
			for (CancellableContext ctx : this.runtime.live().list()) {
				if (!this.live.contains(ctx)) {
					added.add(ctx);
				}
			}
			return added;
		}

	}

	private record Before(List<Baseline> baselines, RequestContext bound) {
	}

}
