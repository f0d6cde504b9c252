package dev.reqctx.task;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellableContext;
import dev.reqctx.ContextKind;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.OrphanHandler;
import dev.reqctx.spi.OrphanHistory;

/**
 * Reports a task that outlived its request: a record in its application's orphan history, an
 * event for the meters, and one WARN line (with the submitting stack when stacks are captured).
 */
final class OrphanReporter implements OrphanHandler {

	private static final Logger LOGGER = System.getLogger(TaskWrapper.class.getName());

	private final boolean keepOrphansRunning;

	private final ContextObserver observer;

	OrphanReporter(boolean keepOrphansRunning, ContextObserver observer) {
		this.keepOrphansRunning = keepOrphansRunning;
		this.observer = observer;
	}

	@Override
	public void orphaned(CancellableContext task) {
		Object label = Contexts.label(task);
		TaskInfo info = (label instanceof TaskInfo ti) ? ti : new TaskInfo(String.valueOf(label), "?", null);
		CancellableContext request = rootOf(task);
		Object requestLabel = (request != null) ? Contexts.label(request) : null;
		String unit = (request == null || request.kind() == ContextKind.REQUEST) ? "request"
				: request.kind().name().toLowerCase(Locale.ROOT);
		String requestId = task.get(StandardKeys.REQUEST_ID);
		String state = (Contexts.thread(task) != null) ? "RUNNING" : "QUEUED";
		String action = this.keepOrphansRunning ? "LEFT_RUNNING" : "CANCELLED";
		Contexts.runtime(task).orphans().record(new OrphanHistory.Orphan(task.id(), info.name(), requestId,
				(requestLabel != null) ? requestLabel.toString() : null, state, action,
				TimeUnit.NANOSECONDS.toMillis(task.ageNanos()), Instant.now(), info.submissionStack()));
		this.observer.taskOrphaned(task);
		String message = "Task '" + info.name() + "' (context " + task.id() + ", " + state.toLowerCase()
				+ ") outlived its " + unit + " " + ((requestLabel != null) ? requestLabel : "?") + " [" + requestId + "]; "
				+ (this.keepOrphansRunning ? "left it running" : "cancelled it")
				+ ((info.submittedAt() != null) ? ". It was submitted by thread '" + info.submittedBy() + "' at:"
						: ". Set reqctx.task.capture-stacks=true to see where it was submitted.");
		LOGGER.log(Level.WARNING, message, info.submittedAt());
	}

	/** The unit of work the task belongs to: its outermost ancestor of a root kind. */
	private static CancellableContext rootOf(CancellableContext task) {
		CancellableContext root = null;
		for (CancellableContext c = Contexts.parent(task); c != null; c = Contexts.parent(c)) {
			if (c.kind().isRoot()) {
				root = c;
			}
		}
		return root;
	}

}
