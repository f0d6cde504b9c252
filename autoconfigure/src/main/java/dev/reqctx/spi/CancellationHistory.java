package dev.reqctx.spi;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;

/**
 * How cancels spread, for the recent cancelled roots of one application: for each request (or
 * job, message, unit of work) cancelled with a cause other than {@code COMPLETED}, and each
 * completion that stopped leftover work, when each of its operations (SQL, HTTP) and tasks was
 * signalled and when it actually returned. What still runs {@code stragglerAfter} after the
 * signal is a <em>straggler</em>: it is marked, counted
 * ({@link ContextObserver#cancelStraggler(String)}), and logged once at WARN with the stack of the
 * thread still running it.
 *
 * <p>The core records into it while it cancels (synchronously, on the cancelling thread): nothing
 * is allocated for a root that completes with nothing left to stop. Bounded: the most recent
 * {@code capacity} cancellations are kept.
 */
public final class CancellationHistory {

	private static final Logger LOGGER = System.getLogger(CancellationHistory.class.getName());

	/** The cancel in progress on this thread, if a root's cancel is being recorded. */
	private static final ThreadLocal<Trace> TRACE = ThreadLocal.withInitial(Trace::new);

	private static final int MAX_STACK = 64;

	private final int capacity;

	private final long stragglerAfterNanos;

	private final Supplier<ContextObserver> observer;

	private final Deque<Recording> recent = new ArrayDeque<>();

	/**
	 * Creates a history.
	 * @param capacity how many cancellations to keep, at least 1
	 * @param stragglerAfter how long after its signal a piece of work that still runs is a
	 * straggler
	 * @param observer supplies the observer told about stragglers
	 */
	public CancellationHistory(int capacity, Duration stragglerAfter, Supplier<ContextObserver> observer) {
		if (capacity < 1) {
			throw new IllegalArgumentException("capacity must be at least 1");
		}
		this.capacity = capacity;
		this.stragglerAfterNanos = Objects.requireNonNull(stragglerAfter, "stragglerAfter must not be null").toNanos();
		this.observer = Objects.requireNonNull(observer, "observer must not be null");
	}

	/**
	 * Returns the recent cancellations, the most recent first.
	 * @return snapshots of them
	 */
	public List<Cancellation> recent() {
		List<Recording> copy;
		synchronized (this.recent) {
			copy = new ArrayList<>(this.recent);
		}
		List<Cancellation> list = new ArrayList<>(copy.size());
		for (Recording recording : copy) {
			list.add(recording.snapshot());
		}
		return list;
	}

	/**
	 * Returns a recent cancellation by the id of its root context or by its request id.
	 * @param id the context id or request id
	 * @return its snapshot, or {@code null} if it is not among the recent ones
	 */
	public Cancellation find(String id) {
		for (Cancellation cancellation : recent()) {
			if (cancellation.id().equals(id) || id.equals(cancellation.requestId())) {
				return cancellation;
			}
		}
		return null;
	}

	// --- Recording, called by the core --------------------------------------------------------

	/**
	 * Starts recording the cancel of a root on the calling thread, for the core: what is
	 * signalled until {@link #exit} is recorded. Allocates nothing until something is.
	 * @param root the root being cancelled
	 * @param cause the cause
	 * @return whether recording started (then call {@link #exit}, in a {@code finally})
	 */
	public boolean enter(CancellableContext root, CancellationCause cause) {
		Trace trace = TRACE.get();
		if (trace.history != null) {
			return false; // a root cancelled from within another's cancel: recorded with that one
		}
		trace.history = this;
		trace.root = root;
		trace.cause = cause;
		trace.recording = null;
		return true;
	}

	/**
	 * Ends the recording started by {@link #enter}: keeps it if the cancel was a failure or
	 * stopped something, and schedules the straggler check.
	 */
	public void exit() {
		Trace trace = TRACE.get();
		Recording recording = trace.recording;
		CancellableContext root = trace.root;
		CancellationCause cause = trace.cause;
		trace.history = null;
		trace.root = null;
		trace.cause = null;
		trace.recording = null;
		if (recording == null && cause.isFailure()) {
			recording = new Recording(root, cause);
		}
		if (recording == null) {
			return;
		}
		synchronized (this.recent) {
			this.recent.addFirst(recording);
			while (this.recent.size() > this.capacity) {
				this.recent.removeLast();
			}
		}
		if (recording.hasSteps()) {
			scheduleStragglerCheck(recording);
		}
	}

	/**
	 * Records that an operation was signalled, if a root's cancel is being recorded on this
	 * thread, for the core.
	 * @param operation the operation
	 * @param thread the thread that runs it
	 * @return the step, to be {@linkplain Step#returned() told} when the operation returns, or
	 * {@code null} if nothing is recorded
	 */
	public static Step signalled(Operation operation, Thread thread) {
		Recording recording = recordingOnThisThread();
		return (recording != null)
				? recording.add(operation.kind(), operation.description(), () -> thread, thread.getName()) : null;
	}

	/**
	 * Records that a task was signalled, if a root's cancel is being recorded on this thread, for
	 * the core.
	 * @param task the task's context
	 * @return the step, or {@code null} if nothing is recorded
	 */
	public static Step signalled(CancellableContext task) {
		Recording recording = recordingOnThisThread();
		if (recording == null) {
			return null;
		}
		Thread running = Contexts.thread(task);
		return recording.add("task", String.valueOf(Contexts.label(task)), () -> Contexts.thread(task),
				(running != null) ? running.getName() : "(queued)");
	}

	private static Recording recordingOnThisThread() {
		Trace trace = TRACE.get();
		if (trace.history == null) {
			return null;
		}
		if (trace.recording == null) {
			trace.recording = new Recording(trace.root, trace.cause);
		}
		return trace.recording;
	}

	private void scheduleStragglerCheck(Recording recording) {
		CancellableContext timer = RequestContext.root().withTimeout(Duration.ofNanos(this.stragglerAfterNanos));
		timer.onCancel(() -> {
			if (timer.cause() == CancellationCause.DEADLINE_EXCEEDED) {
				checkStragglers(recording);
			}
		});
	}

	private void checkStragglers(Recording recording) {
		for (Step step : recording.steps()) {
			if (step.returnedNanos != 0) {
				continue;
			}
			Thread thread = step.thread.get();
			StackTraceElement[] stack = (thread != null) ? thread.getStackTrace() : new StackTraceElement[0];
			step.markStraggler(stack);
			try {
				this.observer.get().cancelStraggler(step.kind);
			}
			catch (RuntimeException ex) {
				LOGGER.log(Level.DEBUG, "Observer failed on a straggler", ex);
			}
			Throwable where = new Throwable("Stack of thread '" + step.threadName + "'");
			where.setStackTrace(stack);
			LOGGER.log(Level.WARNING, "Straggler: " + step.kind + " '" + step.description + "' of " + recording.what()
					+ " still runs " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - step.signalledNanos)
					+ " ms after it was cancelled (" + recording.cause + "); it ignores the cancel or cannot be "
					+ "stopped. Its thread is at:", where);
		}
	}

	/** The per-thread state of a cancel being recorded; reused, so recording allocates nothing idle. */
	private static final class Trace {

		CancellationHistory history;

		CancellableContext root;

		CancellationCause cause;

		Recording recording;

	}

	/** One root's cancel while it spreads. */
	static final class Recording {

		final String id;

		final String kind;

		final Object label;

		final String requestId;

		final CancellationCause cause;

		final Instant cancelledAt = Instant.now();

		final long signalledNanos = System.nanoTime();

		final long elapsedMs;

		private final List<Step> steps = new ArrayList<>(4);

		Recording(CancellableContext root, CancellationCause cause) {
			this.id = root.id();
			this.kind = root.kind().name();
			this.label = Contexts.label(root);
			this.requestId = root.get(StandardKeys.REQUEST_ID);
			this.cause = cause;
			this.elapsedMs = TimeUnit.NANOSECONDS.toMillis(root.ageNanos());
		}

		synchronized Step add(String kind, String description, Supplier<Thread> thread, String threadName) {
			Step step = new Step(kind, description, thread, threadName);
			this.steps.add(step);
			return step;
		}

		synchronized boolean hasSteps() {
			return !this.steps.isEmpty();
		}

		synchronized List<Step> steps() {
			return new ArrayList<>(this.steps);
		}

		String what() {
			return this.kind + " " + this.label + " (" + this.id + ")";
		}

		Cancellation snapshot() {
			List<Cancellation.StepView> views = new ArrayList<>();
			int stragglers = 0;
			for (Step step : steps()) {
				long returned = step.returnedNanos;
				boolean straggler = step.straggler;
				stragglers += straggler ? 1 : 0;
				views.add(new Cancellation.StepView(step.kind, step.description, step.threadName,
						TimeUnit.NANOSECONDS.toMillis(step.signalledNanos - this.signalledNanos),
						(returned != 0) ? TimeUnit.NANOSECONDS.toMillis(returned - step.signalledNanos) : null, straggler,
						step.stack()));
			}
			String method = null;
			String path = null;
			String name = null;
			if (this.label instanceof RequestInfo info) {
				method = info.method();
				path = info.path();
			}
			else if (this.label != null) {
				name = this.label.toString();
			}
			return new Cancellation(this.id, this.kind, method, path, name, this.requestId, this.cause,
					this.cancelledAt, this.elapsedMs, stragglers, views);
		}

	}

	/**
	 * One piece of work a cancel reached: signalled, then returned, or still running.
	 */
	public static final class Step {

		final String kind;

		final String description;

		final Supplier<Thread> thread;

		final String threadName;

		final long signalledNanos = System.nanoTime();

		volatile long returnedNanos;

		volatile boolean straggler;

		private volatile List<String> stack;

		Step(String kind, String description, Supplier<Thread> thread, String threadName) {
			this.kind = kind;
			this.description = description;
			this.thread = thread;
			this.threadName = threadName;
		}

		/** Records that the work returned, for the core. Only the first call counts. */
		public void returned() {
			if (this.returnedNanos == 0) {
				long now = System.nanoTime();
				this.returnedNanos = (now != 0) ? now : 1;
			}
		}

		void markStraggler(StackTraceElement[] stack) {
			this.stack = Arrays.stream(stack).limit(MAX_STACK).map(StackTraceElement::toString).toList();
			this.straggler = true;
		}

		List<String> stack() {
			List<String> s = this.stack;
			return (s != null) ? s : List.of();
		}

	}

	/**
	 * A snapshot of one cancellation and how it spread.
	 *
	 * @param id the root context's id
	 * @param kind the root's kind ({@code REQUEST}, {@code JOB}, ...)
	 * @param method a request's method, else {@code null}
	 * @param path a request's path, else {@code null}
	 * @param name the name of a root that is not a request
	 * @param requestId the root's request id
	 * @param cause the cause
	 * @param cancelledAt when the cancel was signalled
	 * @param elapsedMs the root's age then
	 * @param stragglers how many of its steps were stragglers
	 * @param operations the operations and tasks the cancel reached, in the order it reached them
	 */
	public record Cancellation(String id, String kind, String method, String path, String name, String requestId,
			CancellationCause cause, Instant cancelledAt, long elapsedMs, int stragglers, List<StepView> operations) {

		/**
		 * One operation or task the cancel reached.
		 *
		 * @param kind {@code jdbc}, {@code http} or {@code task}
		 * @param description what it did
		 * @param thread the thread that ran it
		 * @param signalledAfterMs from the root's cancel to this signal
		 * @param returnedAfterMs from the signal to its return, {@code null} while it still runs
		 * @param straggler whether it still ran after the straggler threshold
		 * @param stack for a straggler, the stack of its thread at the threshold
		 */
		public record StepView(String kind, String description, String thread, long signalledAfterMs,
				Long returnedAfterMs, boolean straggler, List<String> stack) {
		}

	}

}
