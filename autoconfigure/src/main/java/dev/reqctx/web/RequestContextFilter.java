package dev.reqctx.web;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.ContextDiagnostics;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.LiveContexts;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.RequestIds;
import dev.reqctx.spi.RequestInfo;
import dev.reqctx.spi.ThreadContextBinder;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.server.PathContainer;

/**
 * A servlet filter that gives every request a {@link ContextKind#REQUEST} context.
 *
 * <p>The deadline is the first matching per-path timeout (or the default timeout), shortened by
 * the caller's budget header, and never longer than the maximum timeout: a caller can shorten
 * its budget, never extend it. The context is bound to the handler thread, registered in its
 * application's {@link ContextRuntime#live() live contexts} while the request is in flight, and cancelled with
 * {@link CancellationCause#COMPLETED} when the request ends, on every path (normal return,
 * exception, async completion, async timeout or error). A request that failed because its
 * context was cancelled is answered with a {@code 504} or {@code 503} problem.
 *
 * <p>{@link RequestContextCustomizer}s add values to each request's context and act on it once
 * it exists (tracing records the trace id this way); a {@link ThreadContextBinder} mirrors the
 * context into thread-bound state (the logging MDC) while the request runs on a thread, on the
 * first dispatch and on async dispatches, and restores that state afterwards.
 *
 * <p>Register it for the {@code REQUEST} and {@code ASYNC} dispatcher types.
 */
public final class RequestContextFilter implements Filter {

	/** Request attribute holding the request's context, for async dispatches and for handlers. */
	public static final String CONTEXT_ATTRIBUTE = RequestContextFilter.class.getName() + ".CONTEXT";

	private static final String ROUTE_ATTRIBUTE = routeAttribute();

	private final RequestContextFilterSettings settings;

	private final List<RequestContextFilterSettings.PathTimeout> pathTimeouts;

	private final long defaultNanos;

	private final long maxNanos;

	private final ContextObserver observer;

	private final Function<HttpServletRequest, Map<String, String>> headerCapture;

	private final RequestContextCustomizer[] customizers;

	private final ThreadContextBinder binder;

	private final ContextRuntime runtime;

	/**
	 * Creates a filter.
	 * @param runtime the application the requests belong to: their live tree and diagnostics
	 * @param settings the settings
	 * @param observer receives request and bad-budget events
	 * @param headerCapture returns the inbound headers to propagate to outbound calls (stored
	 * under {@link StandardKeys#PROPAGATED_HEADERS}), or {@code null} to capture none
	 * @param customizers take part in creating each request's context, in order
	 * @param binder mirrors the context into thread-bound state while the request runs
	 */
	public RequestContextFilter(ContextRuntime runtime, RequestContextFilterSettings settings,
			ContextObserver observer, Function<HttpServletRequest, Map<String, String>> headerCapture,
			List<? extends RequestContextCustomizer> customizers, ThreadContextBinder binder) {
		this.runtime = Objects.requireNonNull(runtime, "runtime must not be null");
		this.settings = Objects.requireNonNull(settings, "settings must not be null");
		this.observer = (observer != null) ? observer : ContextObserver.NONE;
		this.headerCapture = headerCapture;
		this.customizers = (customizers != null) ? customizers.toArray(new RequestContextCustomizer[0])
				: new RequestContextCustomizer[0];
		this.binder = (binder != null) ? binder : ThreadContextBinder.NONE;
		this.pathTimeouts = settings.compiledPathTimeouts();
		this.defaultNanos = settings.defaultTimeout().toNanos();
		this.maxNanos = settings.maxTimeout().toNanos();
	}

	/**
	 * Creates a filter for the {@linkplain ContextRuntime#global() global runtime}.
	 * @param settings the settings
	 * @param observer receives request and bad-budget events
	 * @param headerCapture returns the inbound headers to propagate to outbound calls, or
	 * {@code null} to capture none
	 * @param customizers take part in creating each request's context, in order
	 * @param binder mirrors the context into thread-bound state while the request runs
	 */
	public RequestContextFilter(RequestContextFilterSettings settings, ContextObserver observer,
			Function<HttpServletRequest, Map<String, String>> headerCapture,
			List<? extends RequestContextCustomizer> customizers, ThreadContextBinder binder) {
		this(ContextRuntime.global(), settings, observer, headerCapture, customizers, binder);
	}

	/**
	 * Creates a filter with no customizers and no thread binder.
	 * @param settings the settings
	 * @param observer receives request and bad-budget events
	 * @param headerCapture returns the inbound headers to propagate to outbound calls, or
	 * {@code null} to capture none
	 */
	public RequestContextFilter(RequestContextFilterSettings settings, ContextObserver observer,
			Function<HttpServletRequest, Map<String, String>> headerCapture) {
		this(settings, observer, headerCapture, List.of(), ThreadContextBinder.NONE);
	}

	/**
	 * Creates a filter with the given settings and no observer.
	 * @param settings the settings
	 */
	public RequestContextFilter(RequestContextFilterSettings settings) {
		this(settings, ContextObserver.NONE, null);
	}

	@Override
	public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
			throws IOException, ServletException {
		if (!(req instanceof HttpServletRequest request) || !(res instanceof HttpServletResponse response)) {
			chain.doFilter(req, res);
			return;
		}
		DispatcherType type = request.getDispatcherType();
		// A request's first dispatch on a thread with nothing bound is a new request: the
		// attribute (a container's attribute lookup goes through three maps) is read only when
		// it can be there.
		if (type != DispatcherType.REQUEST || Scope.isAnyBound()) {
			if (request.getAttribute(CONTEXT_ATTRIBUTE) instanceof CancellableContext ctx) {
				// An async dispatch (or a forward, or this filter registered twice) continues the
				// request's context rather than starting a new one.
				resume(ctx, request, response, chain);
				return;
			}
			if (type != DispatcherType.REQUEST) {
				chain.doFilter(request, response);
				return;
			}
			// A context left bound by earlier work on this pooled thread is reported and
			// cleared, so this request starts clean whatever happened before.
			this.runtime.diagnostics().checkThreadClean("a new request");
		}
		String requestId = request.getHeader(this.settings.requestIdHeader());
		if (requestId == null || !RequestIds.isValid(requestId)) {
			requestId = RequestIds.generate();
		}
		response.setHeader(this.settings.requestIdHeader(), requestId);
		long budget = InboundBudget.read(request, this.settings.budgetHeader(), this.settings.acceptGrpcTimeout(),
				this.settings.acceptEnvoyTimeout());
		if (InboundBudget.isInvalid(budget)) {
			InboundBudget.Reason reason = InboundBudget.reason(budget);
			this.observer.invalidBudget(reason.tag);
			if (this.settings.rejectInvalidBudget()) {
				ProblemResponses.writeBadBudget(response, this.settings.budgetHeader(), reason, requestId);
				return;
			}
			budget = InboundBudget.ABSENT;
		}
		CancellableContext ctx = start(request, requestId, budget);
		request.setAttribute(CONTEXT_ATTRIBUTE, ctx);
		boolean async = false;
		// The thread state stays bound until the request is complete, so that completing it
		// (which runs the cancel listeners of leftover work) logs under this request too.
		try (ThreadContextBinder.Restore restore = this.binder.bind(ctx)) {
			try (Scope scope = ctx.attach()) {
				// Inside the try, so that a failing customizer still ends the context.
				for (RequestContextCustomizer customizer : this.customizers) {
					customizer.started(ctx, request);
				}
				chain.doFilter(request, response);
				async = request.isAsyncStarted();
			}
			catch (IOException | ServletException | RuntimeException | Error ex) {
				async = request.isAsyncStarted();
				if (!answerCancelled(ctx, request, response, ex)) {
					throw ex;
				}
			}
			finally {
				if (async) {
					Contexts.runningOn(ctx, null);
					request.getAsyncContext().addListener(new CompletionListener(ctx, request, response));
				}
				else {
					complete(ctx, request, response);
				}
			}
		}
	}

	private CancellableContext start(HttpServletRequest request, String requestId, long budget) {
		String path = pathWithinApplication(request);
		long nanos = this.defaultNanos;
		if (!this.pathTimeouts.isEmpty()) {
			PathContainer container = PathContainer.parsePath(path);
			for (RequestContextFilterSettings.PathTimeout timeout : this.pathTimeouts) {
				if (timeout.matches(container)) {
					nanos = timeout.nanos();
					break;
				}
			}
		}
		if (budget >= 0) {
			nanos = Math.min(nanos, budget);
		}
		nanos = Math.min(nanos, this.maxNanos);
		RequestContext base = RequestContext.root().withValue(StandardKeys.REQUEST_ID, requestId);
		if (this.headerCapture != null) {
			Map<String, String> headers = this.headerCapture.apply(request);
			if (headers != null && !headers.isEmpty()) {
				base = base.withValue(StandardKeys.PROPAGATED_HEADERS, headers);
			}
		}
		for (RequestContextCustomizer customizer : this.customizers) {
			base = customizer.customize(base, request);
		}
		CancellableContext ctx = Contexts.newLiveRoot(this.runtime, base, ContextKind.REQUEST,
				new RequestInfo(request.getMethod(), path), nanos, TimeUnit.NANOSECONDS);
		Contexts.runningOn(ctx, Thread.currentThread());
		this.observer.requestStarted(ctx);
		return ctx;
	}

	private void resume(CancellableContext ctx, HttpServletRequest request, HttpServletResponse response,
			FilterChain chain) throws IOException, ServletException {
		Contexts.runningOn(ctx, Thread.currentThread());
		try (Scope scope = ctx.attach(); ThreadContextBinder.Restore restore = this.binder.bind(ctx)) {
			chain.doFilter(request, response);
		}
		catch (IOException | ServletException | RuntimeException | Error ex) {
			if (!answerCancelled(ctx, request, response, ex)) {
				throw ex;
			}
		}
		finally {
			Contexts.runningOn(ctx, null);
		}
	}

	/**
	 * Answers a failure caused by the context's cancellation with a problem.
	 * @return {@code true} if answered, {@code false} if the caller must rethrow
	 */
	private boolean answerCancelled(CancellableContext ctx, HttpServletRequest request, HttpServletResponse response,
			Throwable ex) throws IOException {
		if (response.isCommitted()) {
			return false;
		}
		ContextCancelledException cancelled = ContextCancelledException.findIn(ex);
		if (cancelled == null) {
			CancellationCause cause = ctx.cause();
			if (cause == null || !cause.isFailure()) {
				return false;
			}
			// The handler failed after its context was cancelled (a driver's own "statement
			// cancelled" error, an interrupted wait): the cancellation is the real reason.
			cancelled = Contexts.cancellationException(ctx, ex);
		}
		request.setAttribute(CANCELLED_ATTRIBUTE, cancelled);
		if (!this.settings.problemResponses() || ContextCancelledExceptionResolver.prefersHtml(request)) {
			// The application's error page (Boot's error controller), with the right status.
			response.sendError(ProblemResponses.statusFor(cancelled.getCancellationCause()));
			return true;
		}
		ProblemResponses.writeCancelled(response, cancelled, ctx.get(StandardKeys.REQUEST_ID),
				ctx.get(StandardKeys.TRACE_ID));
		return true;
	}

	/** Request attribute with the cancellation that the filter answered with a problem. */
	static final String CANCELLED_ATTRIBUTE = RequestContextFilter.class.getName() + ".CANCELLED";

	/** Ends an async request, on the container thread that reports its completion. */
	private void finish(CancellableContext ctx, HttpServletRequest request, HttpServletResponse response) {
		// Completing runs the cancel listeners of leftover work (orphaned tasks report themselves):
		// their log lines belong to this request too.
		try (ThreadContextBinder.Restore restore = this.binder.bind(ctx)) {
			complete(ctx, request, response);
		}
	}

	/** Ends the request: completes its context, unregisters it and counts it. */
	private void complete(CancellableContext ctx, HttpServletRequest request, HttpServletResponse response) {
		CancellationCause cause = ctx.cause();
		ctx.cancel(CancellationCause.COMPLETED);
		Contexts.runningOn(ctx, null);
		Contexts.unregister(ctx);
		this.observer.requestFinished(ctx, routeOf(request, response),
				(cause != null) ? cause : CancellationCause.COMPLETED);
	}

	/**
	 * Returns the route template for meters: the handler's pattern, else a fixed word, never
	 * the raw path (one meter per path would grow without bound).
	 */
	private static String routeOf(HttpServletRequest request, HttpServletResponse response) {
		int status = response.getStatus();
		if (request.getAttribute(ROUTE_ATTRIBUTE) instanceof String pattern && !pattern.isEmpty()
				// The static-resource catch-all matches every unmapped path: its 404s matched nothing.
				&& !(status == 404 && pattern.equals("/**"))) {
			return pattern;
		}
		if (status == 404) {
			return "NOT_FOUND";
		}
		if (status >= 300 && status < 400) {
			return "REDIRECTION";
		}
		return null;
	}

	/**
	 * Spring MVC's own instance of the attribute name where it is present: the request's
	 * attribute map then finds it by identity instead of comparing 62 characters per request.
	 */
	private static String routeAttribute() {
		String name = "org.springframework.web.servlet.HandlerMapping.bestMatchingPattern";
		try {
			Object value = Class.forName("org.springframework.web.servlet.HandlerMapping", false,
					RequestContextFilter.class.getClassLoader())
				.getField("BEST_MATCHING_PATTERN_ATTRIBUTE")
				.get(null);
			return name.equals(value) ? (String) value : name;
		}
		catch (ReflectiveOperationException | LinkageError ex) {
			return name; // not Spring MVC: nothing sets it
		}
	}

	private static String pathWithinApplication(HttpServletRequest request) {
		String uri = request.getRequestURI();
		String contextPath = request.getContextPath();
		return (contextPath != null && !contextPath.isEmpty() && uri.startsWith(contextPath))
				? uri.substring(contextPath.length()) : uri;
	}

	/** Ends the request's context when an async request completes, times out or fails. */
	private final class CompletionListener implements AsyncListener {

		private final CancellableContext ctx;

		private final HttpServletRequest request;

		private final HttpServletResponse response;

		CompletionListener(CancellableContext ctx, HttpServletRequest request, HttpServletResponse response) {
			this.ctx = ctx;
			this.request = request;
			this.response = response;
		}

		@Override
		public void onComplete(AsyncEvent event) {
			finish(this.ctx, this.request, this.response);
		}

		@Override
		public void onTimeout(AsyncEvent event) {
			// The container's async timeout is not the context's deadline; onComplete follows.
		}

		@Override
		public void onError(AsyncEvent event) {
			if (event.getThrowable() instanceof IOException) {
				this.ctx.cancel(CancellationCause.CLIENT_GONE);
			}
		}

		@Override
		public void onStartAsync(AsyncEvent event) {
			// A new async cycle replaces this listener's registration; keep listening.
			event.getAsyncContext().addListener(this);
		}

	}

}
