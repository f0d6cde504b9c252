package dev.reqctx.actuate;

import java.security.Principal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextKey;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.Deadline;
import dev.reqctx.LiveContexts;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.CancellationHistory;
import dev.reqctx.spi.ContextTree;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.OrphanHistory;
import dev.reqctx.spi.RequestInfo;
import dev.reqctx.spi.UnboundOperations;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.SanitizableData;
import org.springframework.boot.actuate.endpoint.Sanitizer;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.Show;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * {@link Endpoint @Endpoint} that shows the live tree of request contexts and lets an operator
 * cancel one.
 *
 * <p>The list puts the requests closest to their deadline first, and shows at most a default
 * number of them unless {@code ?limit=} asks for another number (up to a maximum), so that it
 * stays small and fast with thousands of requests in flight; {@code total} always counts them
 * all. Context values are masked
 * unless {@code management.endpoint.requestcontexts.show-values} allows them, like the
 * {@code env} endpoint; {@link SanitizingFunction} beans apply to them too.
 *
 * <p>The cancel is an operator's write operation and is off unless enabled, as Spring Boot
 * treats {@code shutdown}: the endpoint's default access is read-only, and
 * {@code management.endpoint.requestcontexts.access=unrestricted} turns the cancel on. Every
 * cancel asked for is recorded ({@link OperatorCancelRecorder}): a log line with the caller,
 * their address and the target, and an audit event when the application keeps them.
 *
 * <p>One context's view adds the whole stack of the thread running it, folded by default so that
 * the application's frames stand out from the framework's ({@link StackMode}); {@code ?stack=full}
 * asks for every frame.
 */
@Endpoint(id = "requestcontexts", defaultAccess = Access.READ_ONLY)
public class RequestContextsEndpoint {

	/** How many requests the list shows when the caller gives no limit. */
	public static final int DEFAULT_LIMIT = 100;

	/** How many requests the list shows at most, whatever the caller asks. */
	public static final int MAX_LIMIT = 1000;

	private static final System.Logger LOGGER = System.getLogger(RequestContextsEndpoint.class.getName());

	private final Sanitizer sanitizer;

	private final Show showValues;

	private final int defaultLimit;

	private final int maxLimit;

	private final ContextRuntime runtime;

	private final List<OperatorCancelRecorder> recorders;

	private final StackMode stackMode;

	private final StackFolding stackFolding;

	/**
	 * Creates a new endpoint with the default limits and folded stacks, for the global runtime.
	 * Application frames are those outside well-known framework packages.
	 * @param sanitizingFunctions functions applied to context values before display
	 * @param showValues when to show values unmasked
	 */
	public RequestContextsEndpoint(Iterable<SanitizingFunction> sanitizingFunctions, Show showValues) {
		this(ContextRuntime.global(), sanitizingFunctions, showValues, DEFAULT_LIMIT, MAX_LIMIT,
				List.of(OperatorCancelRecorder.LOG), StackMode.FOLDED, List.of());
	}

	/**
	 * Creates a new endpoint.
	 * @param runtime the application whose contexts it shows and cancels
	 * @param sanitizingFunctions functions applied to context values before display
	 * @param showValues when to show values unmasked
	 * @param defaultLimit how many requests the list shows without {@code ?limit=}
	 * @param maxLimit how many requests the list shows at most
	 * @param recorders told about every operator cancel, in order
	 * @param stackMode how one context's view shows the stack when the caller does not say
	 * @param applicationPackages the packages whose frames a folded stack keeps (with their
	 * sub-packages); when empty, those of classes outside well-known framework packages
	 */
	public RequestContextsEndpoint(ContextRuntime runtime, Iterable<SanitizingFunction> sanitizingFunctions,
			Show showValues, int defaultLimit, int maxLimit, List<OperatorCancelRecorder> recorders,
			StackMode stackMode, Collection<String> applicationPackages) {
		this.runtime = Objects.requireNonNull(runtime, "runtime must not be null");
		this.recorders = List.copyOf(recorders);
		this.stackMode = Objects.requireNonNull(stackMode, "stackMode must not be null");
		this.stackFolding = new StackFolding(applicationPackages);
		if (maxLimit < 1) {
			throw new IllegalArgumentException(
					"management.endpoint.requestcontexts.max-limit must be at least 1, but was " + maxLimit);
		}
		if (defaultLimit < 1 || defaultLimit > maxLimit) {
			throw new IllegalArgumentException("management.endpoint.requestcontexts.default-limit must be between 1 and"
					+ " max-limit (" + maxLimit + "), but was " + defaultLimit);
		}
		this.sanitizer = new Sanitizer(sanitizingFunctions);
		this.showValues = showValues;
		this.defaultLimit = defaultLimit;
		this.maxLimit = maxLimit;
	}

	/**
	 * Lists the requests in flight, closest to their deadline first.
	 * @param limit the most requests to list (capped at the maximum), the default limit if
	 * {@code null}
	 * @return the list
	 */
	@ReadOperation
	public RequestContextsDescriptor requestContexts(@Nullable Integer limit) {
		return list(limit, this.showValues.isShown(true));
	}

	/**
	 * Shows one context (a request, or any descendant) with its tree and, for a request, the
	 * stack of the thread running it.
	 * @param id the context id
	 * @param stack how to show the stack, the configured mode if {@code null}
	 * @return the context, or {@code null} if no such context is in flight
	 */
	@ReadOperation
	public @Nullable ContextDescriptor requestContext(@Selector String id, @Nullable StackMode stack) {
		return one(id, this.showValues.isShown(true), stack);
	}

	/**
	 * Cancels a context with {@link CancellationCause#CANCELLED}.
	 * @param id the context id
	 * @return what happened, or {@code null} if no such context is in flight
	 */
	@WriteOperation
	public @Nullable CancellationDescriptor cancel(@Selector String id) {
		// Not a SecurityContext parameter: on a write operation Boot would then expect a JSON
		// body, and a plain POST would get 415. The web extension passes the caller.
		return cancel(id, null, null);
	}

	@Nullable CancellationDescriptor cancel(String id, @Nullable Principal principal, @Nullable String remoteAddress) {
		CancellableContext ctx = find(id);
		boolean cancelled = (ctx != null) && ctx.cancel(CancellationCause.CANCELLED);
		Object label = (ctx != null) ? Contexts.label(ctx) : null;
		OperatorCancel record = new OperatorCancel(id, (ctx != null) ? ctx.id() : null,
				(label instanceof RequestInfo) ? label.toString() : null,
				(ctx != null) ? ctx.get(StandardKeys.REQUEST_ID) : null, cancelled,
				(principal != null) ? principal.getName() : null, remoteAddress);
		for (OperatorCancelRecorder recorder : this.recorders) {
			try {
				recorder.record(record);
			}
			catch (RuntimeException ex) {
				// The cancel happened: a failing audit sink must not turn it into an error.
				LOGGER.log(System.Logger.Level.WARNING, "Recording an operator cancel failed", ex);
			}
		}
		return (ctx != null) ? new CancellationDescriptor(ctx.id(), cancelled, ctx.cause()) : null;
	}

	RequestContextsDescriptor list(@Nullable Integer limit, boolean showUnsanitized) {
		List<CancellableContext> live = this.runtime.live().list();
		int total = live.size();
		// Sort on a cheap key first, so that snapshots are taken only for the contexts shown. The
		// key is the deadline against one instant: time left read context by context would drift
		// while thousands are read, and misorder them.
		long now = System.nanoTime();
		long[] remaining = new long[total];
		Integer[] order = new Integer[total];
		for (int i = 0; i < total; i++) {
			Deadline deadline = live.get(i).deadline().orElse(null);
			remaining[i] = (deadline != null) ? deadline.nanoTime() - now : Long.MAX_VALUE;
			order[i] = i;
		}
		Arrays.sort(order, Comparator.comparingLong((Integer i) -> remaining[i]));
		int wanted = (limit != null) ? Math.max(0, Math.min(limit, this.maxLimit)) : this.defaultLimit;
		int count = Math.min(wanted, total);
		List<ContextDescriptor> contexts = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			contexts.add(describe(Contexts.tree(live.get(order[i])), showUnsanitized, null));
		}
		List<LeakDescriptor> leaks = new ArrayList<>();
		for (OrphanHistory.Orphan leak : this.runtime.orphans().recent()) {
			leaks.add(new LeakDescriptor(leak.contextId(), leak.name(), leak.requestId(), leak.request(), leak.state(),
					leak.action(), leak.ageMs(), leak.detectedAt().toString(), leak.forkedAt()));
		}
		List<UnboundDescriptor> unbound = new ArrayList<>();
		UnboundOperations detector = Contexts.extension(this.runtime, UnboundOperations.class);
		if (detector != null) {
			for (UnboundOperations.CallSite site : detector.callSites()) {
				unbound.add(new UnboundDescriptor(site.operation(), site.callSite(), site.count(),
						site.firstSeen().toString(), site.thread(), site.stack()));
			}
		}
		List<RecordedCancellationDescriptor> cancellations = new ArrayList<>();
		CancellationHistory history = Contexts.extension(this.runtime, CancellationHistory.class);
		if (history != null) {
			for (CancellationHistory.Cancellation cancellation : history.recent()) {
				cancellations.add(RecordedCancellationDescriptor.of(cancellation));
			}
		}
		return new RequestContextsDescriptor(total, contexts, leaks, unbound, cancellations);
	}

	/** A recent cancellation by root context id or request id, for ids no longer in flight. */
	@Nullable RecordedCancellationDescriptor recorded(String id) {
		CancellationHistory history = Contexts.extension(this.runtime, CancellationHistory.class);
		CancellationHistory.Cancellation cancellation = (history != null) ? history.find(id) : null;
		return (cancellation != null) ? RecordedCancellationDescriptor.of(cancellation) : null;
	}

	@Nullable ContextDescriptor one(String id, boolean showUnsanitized, @Nullable StackMode stackMode) {
		CancellableContext ctx = find(id);
		if (ctx == null) {
			return null;
		}
		Thread thread = Contexts.thread(ctx);
		List<String> stack = null;
		if (thread != null) {
			StackMode mode = (stackMode != null) ? stackMode : this.stackMode;
			stack = this.stackFolding.present(thread.getStackTrace(), mode);
		}
		return describe(Contexts.tree(ctx), showUnsanitized, stack);
	}

	/** Finds a context (or a descendant) by id, else a request by its request id. */
	private @Nullable CancellableContext find(String id) {
		CancellableContext ctx = this.runtime.live().find(id);
		if (ctx != null) {
			return ctx;
		}
		for (CancellableContext request : this.runtime.live().list()) {
			if (id.equals(request.get(StandardKeys.REQUEST_ID))) {
				return request;
			}
		}
		return null;
	}

	private ContextDescriptor describe(ContextTree snapshot, boolean showUnsanitized, @Nullable List<String> stack) {
		Map<String, Object> values = new LinkedHashMap<>();
		String requestId = null;
		String traceId = null;
		for (Map.Entry<ContextKey<?>, Object> entry : snapshot.values().entrySet()) {
			if (entry.getKey() == StandardKeys.REQUEST_ID) {
				requestId = (String) entry.getValue();
				continue;
			}
			if (entry.getKey() == StandardKeys.TRACE_ID) {
				traceId = (String) entry.getValue();
				continue;
			}
			String key = entry.getKey().name();
			SanitizableData data = new SanitizableData(null, key, entry.getValue());
			values.put(key, this.sanitizer.sanitize(data, showUnsanitized));
		}
		Object label = snapshot.label();
		List<ContextDescriptor> children = new ArrayList<>(snapshot.children().size());
		for (ContextTree child : snapshot.children()) {
			children.add(describe(child, showUnsanitized, null));
		}
		List<OperationDescriptor> operations = new ArrayList<>(snapshot.operations().size());
		for (ContextTree.OperationView op : snapshot.operations()) {
			operations.add(new OperationDescriptor(op.kind(), op.description(), op.ageMillis(), op.thread(),
					op.cancelling() ? "CANCELLING" : "RUNNING"));
		}
		RequestInfo request = (label instanceof RequestInfo info) ? info : null;
		String state = (snapshot.cancellation() != null) ? "CANCELLED"
				: (snapshot.kind() == ContextKind.TASK) ? ((snapshot.thread() != null) ? "RUNNING" : "QUEUED") : "ACTIVE";
		return new ContextDescriptor(snapshot.id(), snapshot.kind().name(), requestId, traceId,
				(request != null) ? request.method() : null, (request != null) ? request.path() : null,
				(request == null && label != null) ? label.toString() : null, snapshot.ageMillis(), snapshot.remainingMillis(), state,
				snapshot.cancellation(), snapshot.thread(), values, operations, children, stack);
	}

	/**
	 * The requests in flight.
	 *
	 * @param total how many requests are in flight (the list shows at most the limit)
	 * @param contexts the requests, closest to their deadline first
	 * @param leaks recent work that outlived its request
	 * @param unbound SQL and HTTP that ran with no context while requests were in flight, by call
	 * site (the broken-chain detector)
	 * @param cancellations how recent cancels spread, most recent first
	 */
	public record RequestContextsDescriptor(int total, List<ContextDescriptor> contexts, List<LeakDescriptor> leaks,
			List<UnboundDescriptor> unbound, List<RecordedCancellationDescriptor> cancellations)
			implements OperationResponseBody {
	}

	/**
	 * How a recent cancel spread: each operation and task it reached, when it was signalled and
	 * when it returned, and which ones were stragglers.
	 *
	 * @param id the root context's id
	 * @param kind the root's kind
	 * @param method a request's method
	 * @param path a request's path
	 * @param name the name of a root that is not a request
	 * @param requestId the root's request id
	 * @param cause why it was cancelled ({@code COMPLETED} when its end stopped leftover work)
	 * @param cancelledAt when (ISO-8601)
	 * @param elapsedMs the root's age then
	 * @param stragglers how many operations and tasks were stragglers
	 * @param operations the operations and tasks, in the order the cancel reached them
	 */
	public record RecordedCancellationDescriptor(String id, String kind, @Nullable String method, @Nullable String path,
			@Nullable String name, @Nullable String requestId, CancellationCause cause, String cancelledAt,
			long elapsedMs, int stragglers, List<CancellationHistory.Cancellation.StepView> operations)
			implements OperationResponseBody {

		static RecordedCancellationDescriptor of(CancellationHistory.Cancellation c) {
			return new RecordedCancellationDescriptor(c.id(), c.kind(), c.method(), c.path(), c.name(), c.requestId(),
					c.cause(), c.cancelledAt().toString(), c.elapsedMs(), c.stragglers(), c.operations());
		}

	}

	/**
	 * A call site of SQL or HTTP that ran on a thread with no context while requests were in
	 * flight: most likely work handed to an executor that does not propagate the context.
	 *
	 * @param operation {@code jdbc} or {@code http}
	 * @param callSite the first application frame that led to it
	 * @param count how many times it happened
	 * @param firstSeen when it first happened (ISO-8601)
	 * @param thread the thread it first ran on
	 * @param stack that first time's stack, innermost frame first
	 */
	public record UnboundDescriptor(String operation, String callSite, long count, String firstSeen, String thread,
			List<String> stack) {
	}

	/**
	 * A task that outlived its request.
	 *
	 * @param id the task's context id
	 * @param name the task's name
	 * @param requestId the id of the request it belonged to
	 * @param request the request's method and path
	 * @param state {@code QUEUED} or {@code RUNNING} when the request ended
	 * @param action {@code CANCELLED} or {@code LEFT_RUNNING}
	 * @param ageMs the task's age when the request ended
	 * @param detectedAt when the request ended (ISO-8601)
	 * @param submittedAt where the task was submitted (when stacks are captured)
	 */
	public record LeakDescriptor(String id, String name, @Nullable String requestId, @Nullable String request,
			String state, String action, long ageMs, String detectedAt, List<String> submittedAt) {
	}

	/**
	 * One context and its descendants.
	 *
	 * @param id the context id
	 * @param kind {@code REQUEST}, {@code TASK} or {@code SCOPE}
	 * @param requestId the request id, for requests
	 * @param traceId the trace id of the request's span, when a tracer is present
	 * @param method the HTTP method, for requests
	 * @param path the request path without query, for requests
	 * @param name the label of a non-request context
	 * @param ageMs how long the context has existed
	 * @param remainingMs time left before its deadline, {@code null} if none
	 * @param state {@code ACTIVE} or {@code CANCELLED}; tasks are {@code QUEUED} or {@code RUNNING}
	 * @param cause why it was cancelled, if it was
	 * @param thread the thread running it
	 * @param values its values, masked unless allowed
	 * @param operations SQL statements and HTTP exchanges in flight
	 * @param children child contexts (tasks, scopes)
	 * @param stack the running thread's stack, innermost frame first, folded or in full (single
	 * context view only)
	 */
	public record ContextDescriptor(String id, String kind, @Nullable String requestId, @Nullable String traceId,
			@Nullable String method, @Nullable String path, @Nullable String name, long ageMs, @Nullable Long remainingMs, String state,
			@Nullable CancellationCause cause, @Nullable String thread, Map<String, Object> values,
			List<OperationDescriptor> operations, List<ContextDescriptor> children, @Nullable List<String> stack)
			implements OperationResponseBody {
	}

	/**
	 * An operation in flight.
	 *
	 * @param kind {@code jdbc} or {@code http}
	 * @param description the SQL (truncated) or {@code METHOD url-without-query}
	 * @param ageMs how long it has run
	 * @param thread the thread that started it
	 * @param state {@code RUNNING}, or {@code CANCELLING} once its context asked it to stop
	 */
	public record OperationDescriptor(String kind, String description, long ageMs, String thread, String state) {
	}

	/**
	 * The result of a cancel request.
	 *
	 * @param id the context id
	 * @param cancelled whether this request cancelled it ({@code false} if it already was)
	 * @param cause the context's cause now
	 */
	public record CancellationDescriptor(String id, boolean cancelled, @Nullable CancellationCause cause)
			implements OperationResponseBody {
	}

}
