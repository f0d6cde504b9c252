package dev.reqctx.http;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.System.Logger;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.reqctx.ContextCancelledException;
import dev.reqctx.Registration;
import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.Operation;
import dev.reqctx.spi.UnboundOperations;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpRequest;
import org.springframework.http.client.ClientHttpRequestExecution;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.ClientHttpResponse;

/**
 * A {@link ClientHttpRequestInterceptor} that runs every outbound call of a {@code RestClient}
 * or {@code RestTemplate} under the caller's {@link RequestContext}.
 *
 * <p>Per call it:
 * <ul>
 * <li>fails fast, before any connection is opened, with the context's
 * {@link ContextCancelledException} if the context is already cancelled;
 * <li>sends every host the remaining budget less a safety margin ({@code Request-Timeout-Ms},
 * never negative; no header for a context without a deadline, such as a
 * {@linkplain RequestContext#detached() detached} one);
 * <li>sends the request id ({@code X-Request-Id}) and the configured inbound headers captured
 * in the context only to the hosts declared {@linkplain #withInternalHosts(Collection) internal},
 * none by default, and logs once per other host, at INFO, what it did not send there;
 * <li>shows the exchange in the live tree as an {@code "http"} {@link Operation} described as
 * {@code "METHOD scheme://host[:port]/path"}, never with its query string or headers, from the
 * call until the response body has been read to its end or the response (or its body) closed;
 * <li>aborts the exchange when the context is cancelled in that time, while the caller waits
 * for the response or reads its body, and throws the context's exception (a
 * {@code DeadlineExceededException} when the deadline passed) with the client's failure as its
 * cause, from the call or from the body's {@code read};
 * <li>treats a downstream {@code 504} that arrives within the safety margin of the deadline as
 * this call's own deadline passing, so a chain of services answers {@code 504} at every hop.
 * </ul>
 *
 * <p>The request id may be chosen by the inbound client, and the propagated headers (a tenant,
 * say) are the inbound request's: neither is this service's to hand to a third party, so they
 * go only where the application says its own services are. The budget is not an inbound value
 * but this caller's own remaining time, which the callee learns anyway when the caller gives
 * up; sent everywhere, it lets any deadline-aware downstream stop early. Headers the caller
 * sets on the call itself are left alone, whatever the host. Everything else (fail fast, the
 * operation, the abort) is the same for every host.
 *
 * <p>With a deadline, a call, body included, therefore never outlives the shorter of the
 * client's own timeouts and the context's budget. The body is not buffered: it reaches the
 * caller as the client delivers it. How the exchange is aborted depends on the request factory;
 * see the {@linkplain dev.reqctx.http package documentation}.
 *
 * <p>Instances are immutable (but for the hosts they have logged) and thread-safe. For a client
 * built by hand:
 *
 * <pre>
 * RestClient client = RestClient.builder()
 *         .requestInterceptor(ReqctxHttp.interceptor().withInternalHosts(List.of("*.svc.internal")))
 *         .build();
 * </pre>
 */
public final class ContextPropagatingInterceptor implements ClientHttpRequestInterceptor {

	/** The kind of the operations this interceptor opens, and of the meters it reports. */
	public static final String OPERATION_KIND = "http";

	/** The default name of the budget header. */
	public static final String DEFAULT_BUDGET_HEADER = "Request-Timeout-Ms";

	/** The default name of the request id header. */
	public static final String DEFAULT_REQUEST_ID_HEADER = "X-Request-Id";

	/** The default time kept back from the budget sent downstream. */
	public static final Duration DEFAULT_SAFETY_MARGIN = Duration.ofMillis(10);

	private static final long NANOS_PER_MILLI = 1_000_000L;

	private static final int GATEWAY_TIMEOUT = 504;

	/** How late the deadline timer may fire, at most, in practice. */
	private static final long DEADLINE_SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

	private static final String[] NO_HEADERS = {};

	/** How long a failed call waits for its context's cancel to reach its operation, at most. */
	private static final long CANCEL_ACTION_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

	/** How many hosts the "not sending" line is logged for, at most: each is remembered. */
	static final int MAX_REPORTED_HOSTS = 256;

	private static final Logger LOGGER = System.getLogger(ContextPropagatingInterceptor.class.getName());

	private final String budgetHeader;

	private final String requestIdHeader;

	private final long safetyMarginNanos;

	private final String[] propagatedHeaders;

	private final InternalHosts internalHosts;

	private final ContextObserver observer;

	private final UnboundOperations unbound;

	/** The hosts the "not sending" line was logged for. */
	private final Set<String> reportedHosts = ConcurrentHashMap.newKeySet();

	/**
	 * Creates an interceptor with the default header names and safety margin, that declares no
	 * host internal (so it sends no request id), propagates no inbound headers and reports to no
	 * observer.
	 */
	public ContextPropagatingInterceptor() {
		this(DEFAULT_BUDGET_HEADER, DEFAULT_REQUEST_ID_HEADER, DEFAULT_SAFETY_MARGIN.toNanos(), NO_HEADERS,
				InternalHosts.NONE, ContextObserver.NONE, UnboundOperations.NONE);
	}

	private ContextPropagatingInterceptor(String budgetHeader, String requestIdHeader, long safetyMarginNanos,
			String[] propagatedHeaders, InternalHosts internalHosts, ContextObserver observer,
			UnboundOperations unbound) {
		this.budgetHeader = budgetHeader;
		this.requestIdHeader = requestIdHeader;
		this.safetyMarginNanos = safetyMarginNanos;
		this.propagatedHeaders = propagatedHeaders;
		this.internalHosts = internalHosts;
		this.observer = observer;
		this.unbound = unbound;
	}

	/**
	 * Returns a copy that sends the budget in the given header.
	 * @param name the header name, such as {@code "Request-Timeout-Ms"}
	 * @return the new interceptor
	 */
	public ContextPropagatingInterceptor withBudgetHeader(String name) {
		requireHeaderName(name);
		return new ContextPropagatingInterceptor(name, this.requestIdHeader, this.safetyMarginNanos,
				this.propagatedHeaders, this.internalHosts, this.observer, this.unbound);
	}

	/**
	 * Returns a copy that sends the request id ({@link StandardKeys#REQUEST_ID}) in the given
	 * header.
	 * @param name the header name, such as {@code "X-Request-Id"}
	 * @return the new interceptor
	 */
	public ContextPropagatingInterceptor withRequestIdHeader(String name) {
		requireHeaderName(name);
		return new ContextPropagatingInterceptor(this.budgetHeader, name, this.safetyMarginNanos,
				this.propagatedHeaders, this.internalHosts, this.observer, this.unbound);
	}

	/**
	 * Returns a copy that keeps the given time back from the budget it sends downstream, for
	 * the network and for reading the response.
	 * @param margin the margin, zero or positive
	 * @return the new interceptor
	 */
	public ContextPropagatingInterceptor withSafetyMargin(Duration margin) {
		Objects.requireNonNull(margin, "margin must not be null");
		if (margin.isNegative()) {
			throw new IllegalArgumentException("margin must not be negative");
		}
		return new ContextPropagatingInterceptor(this.budgetHeader, this.requestIdHeader, saturatedNanos(margin),
				this.propagatedHeaders, this.internalHosts, this.observer, this.unbound);
	}

	/**
	 * Returns a copy that copies the given inbound headers, as captured in
	 * {@link StandardKeys#PROPAGATED_HEADERS}, to every call to an
	 * {@linkplain #withInternalHosts(Collection) internal host}. Only these names are sent.
	 * @param names the header names; empty to copy none
	 * @return the new interceptor
	 */
	public ContextPropagatingInterceptor withPropagatedHeaders(Collection<String> names) {
		Objects.requireNonNull(names, "names must not be null");
		String[] copy = names.toArray(NO_HEADERS);
		for (String name : copy) {
			requireHeaderName(name);
		}
		return new ContextPropagatingInterceptor(this.budgetHeader, this.requestIdHeader, this.safetyMarginNanos,
				copy, this.internalHosts, this.observer, this.unbound);
	}

	/**
	 * Returns a copy that sends the request id and the propagated inbound headers to the given
	 * hosts, and to no other. Each pattern is one of:
	 * <ul>
	 * <li>a host name or IP literal, matched exactly and case-insensitively against the host of
	 * the call's URI as written: {@code api.example.internal}, {@code 10.0.0.7}, {@code [::1]}
	 * ({@code localhost} and {@code 127.0.0.1} are different hosts);
	 * <li>{@code *.example.internal}: any subdomain of {@code example.internal}, not the domain
	 * itself;
	 * <li>either of them with {@code :port}, such as {@code api.example.internal:8443}, for that
	 * port only (a URI without a port has {@code 80} for {@code http}, {@code 443} for
	 * {@code https});
	 * <li>{@code *} alone: every host.
	 * </ul>
	 * The budget goes to every host whatever the patterns.
	 * @param patterns the patterns; empty to declare no host internal
	 * @return the new interceptor
	 * @throws IllegalArgumentException if a pattern is none of these, with what is wrong and
	 * examples
	 */
	public ContextPropagatingInterceptor withInternalHosts(Collection<String> patterns) {
		return new ContextPropagatingInterceptor(this.budgetHeader, this.requestIdHeader, this.safetyMarginNanos,
				this.propagatedHeaders, InternalHosts.of(patterns), this.observer, this.unbound);
	}

	/**
	 * Returns a copy that reports calls to the given observer (remaining budget at call start,
	 * cancelled calls by cause, cancel latency).
	 * @param observer the observer
	 * @return the new interceptor
	 */
	public ContextPropagatingInterceptor withObserver(ContextObserver observer) {
		Objects.requireNonNull(observer, "observer must not be null");
		return new ContextPropagatingInterceptor(this.budgetHeader, this.requestIdHeader, this.safetyMarginNanos,
				this.propagatedHeaders, this.internalHosts, observer, this.unbound);
	}

	/**
	 * Returns a copy that reports calls made with no context while requests are in flight to the
	 * given broken-chain detector.
	 * @param unbound the detector
	 * @return the new interceptor
	 */
	public ContextPropagatingInterceptor withUnboundOperations(UnboundOperations unbound) {
		Objects.requireNonNull(unbound, "unbound must not be null");
		return new ContextPropagatingInterceptor(this.budgetHeader, this.requestIdHeader, this.safetyMarginNanos,
				this.propagatedHeaders, this.internalHosts, this.observer, unbound);
	}

	@Override
	public ClientHttpResponse intercept(HttpRequest request, byte[] body, ClientHttpRequestExecution execution)
			throws IOException {
		RequestContext context = RequestContext.current();
		// Nothing has been sent and no connection taken yet: failing here costs the server nothing.
		context.throwIfCancelled();
		long remainingNanos = context.remainingNanos();
		writeHeaders(context, remainingNanos, request.getURI(), request.getHeaders());
		if (!context.isCancellable()) {
			// Root or detached: nothing can cancel the call, so there is nothing to track.
			this.unbound.check(OPERATION_KIND);
			return execution.execute(request, body);
		}
		if (remainingNanos != Long.MAX_VALUE) {
			this.observer.operationStarted(OPERATION_KIND, remainingNanos);
		}
		Exchange exchange = new Exchange(context, this);
		Operation operation = Contexts.startOperation(context, OPERATION_KIND, describe(request), exchange);
		ClientHttpResponse response;
		try {
			response = execution.execute(request, body);
		}
		catch (Throwable ex) {
			awaitCancelAction(context, operation);
			end(operation, exchange);
			ContextCancelledException cancelled = cancelledBy(context, operation, ex);
			if (cancelled != null) {
				throw cancelled;
			}
			throw ex;
		}
		// Status and headers are here, the body is not: the operation stays open, and
		// cancellable, until the caller has read the body or closed the response. A response
		// that arrived as the context was cancelled keeps its status and headers; its body fails
		// with the context's exception.
		response = exchange.respond(response, operation);
		if (remainingNanos != Long.MAX_VALUE && response.getStatusCode().value() == GATEWAY_TIMEOUT) {
			ContextCancelledException cancelled = awaitOwnDeadline(context, request);
			if (cancelled != null) {
				response.close();
				throw cancelled;
			}
		}
		return response;
	}

	/**
	 * Handles a downstream {@code 504} that came from the budget this call sent: downstream's
	 * deadline was ours less the safety margin, so ours passes within the margin. Waiting for it
	 * (never longer than the margin plus timer slack) lets every hop of a chain answer with its
	 * own deadline, so the first caller gets a {@code 504} too instead of a {@code 500}.
	 * @return the context's exception, or {@code null} if the 504 was not about this budget
	 */
	private ContextCancelledException awaitOwnDeadline(RequestContext context, HttpRequest request) {
		long left = context.remainingNanos();
		if (!isOwnDeadlineSoon(left)) {
			return null; // downstream ran out of a budget of its own, not of ours
		}
		if (!context.isCancelled()) {
			CountDownLatch cancelled = new CountDownLatch(1);
			Registration registration = context.onCancel(cancelled::countDown);
			try {
				cancelled.await(ownDeadlineWaitNanos(left), TimeUnit.NANOSECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			finally {
				registration.remove();
			}
		}
		return Contexts.cancellationException(context, downstreamTimedOut(describe(request)));
	}

	/**
	 * Returns whether a downstream {@code 504} that arrives with this much of the caller's
	 * budget left came from the budget this call sent: downstream's deadline was the caller's
	 * less the safety margin, so the caller's own passes within the margin (plus timer slack).
	 * @param remainingNanos what is left of the caller's budget
	 */
	boolean isOwnDeadlineSoon(long remainingNanos) {
		return remainingNanos <= this.safetyMarginNanos + DEADLINE_SLACK_NANOS;
	}

	/** How long to wait, at most, for the caller's deadline after {@link #isOwnDeadlineSoon(long)}. */
	static long ownDeadlineWaitNanos(long remainingNanos) {
		return Math.max(0, remainingNanos) + DEADLINE_SLACK_NANOS;
	}

	/** The failure a downstream {@code 504} stands for, as the cause of the context's exception. */
	static IOException downstreamTimedOut(String description) {
		return new IOException(description + " answered 504 Gateway Timeout: the budget sent downstream ran out");
	}

	/**
	 * Writes the budget header, and for an internal host the request id and the propagated
	 * headers, into an outbound request's headers; shared by every client integration.
	 * @param context the caller's context
	 * @param remainingNanos its remaining budget, read once for the call
	 * @param uri the call's URI, whose host decides what is sent
	 * @param headers the outbound headers, mutable
	 */
	void writeHeaders(RequestContext context, long remainingNanos, URI uri, HttpHeaders headers) {
		if (remainingNanos != Long.MAX_VALUE) {
			long budgetMillis = Math.max(0, remainingNanos - this.safetyMarginNanos) / NANOS_PER_MILLI;
			String explicit = headers.getFirst(this.budgetHeader);
			// A caller may ask downstream for less time than it has, never for more.
			if (explicit == null || !isShorter(explicit, budgetMillis)) {
				headers.set(this.budgetHeader, Long.toString(budgetMillis));
			}
		}
		String requestId = context.get(StandardKeys.REQUEST_ID);
		Map<String, String> captured = (this.propagatedHeaders.length > 0)
				? context.get(StandardKeys.PROPAGATED_HEADERS) : null;
		if (requestId == null && captured == null) {
			return; // nothing inbound to send, wherever the call goes
		}
		if (!this.internalHosts.includes(uri)) {
			reportWithheld(uri, requestId, captured, headers);
			return;
		}
		if (requestId != null && !headers.containsHeader(this.requestIdHeader)) {
			headers.set(this.requestIdHeader, requestId);
		}
		if (captured != null) {
			for (String name : this.propagatedHeaders) {
				String value = captured.get(name);
				if (value != null && !headers.containsHeader(name)) {
					headers.set(name, value);
				}
			}
		}
	}

	/**
	 * Logs, once per host and for {@value #MAX_REPORTED_HOSTS} hosts at most, the headers a call
	 * to a host that is not internal would have had: an operator who misses them downstream
	 * learns why, and which host to declare.
	 */
	private void reportWithheld(URI uri, String requestId, Map<String, String> captured, HttpHeaders headers) {
		String host = uri.getHost();
		String key = (host != null) ? host : hostAndPortOf(uri.getRawAuthority());
		if (this.reportedHosts.contains(key) || this.reportedHosts.size() >= MAX_REPORTED_HOSTS
				|| !LOGGER.isLoggable(Level.INFO)) {
			return;
		}
		List<String> withheld = new ArrayList<>();
		if (requestId != null && !headers.containsHeader(this.requestIdHeader)) {
			withheld.add(this.requestIdHeader);
		}
		if (captured != null) {
			for (String name : this.propagatedHeaders) {
				if (captured.get(name) != null && !headers.containsHeader(name)) {
					withheld.add(name);
				}
			}
		}
		if (withheld.isEmpty() || !this.reportedHosts.add(key)) {
			return;
		}
		String target = (host != null && uri.getPort() != -1) ? host + ":" + uri.getPort() : key;
		LOGGER.log(Level.INFO, "Not sending " + String.join(", ", withheld) + " to " + target
				+ ": not in reqctx.http.internal-hosts (logged once per host"
				+ ((this.reportedHosts.size() >= MAX_REPORTED_HOSTS)
						? "; " + MAX_REPORTED_HOSTS + " hosts logged, no further host will be)" : ")"));
	}

	/** The authority without its user info, which must not reach the log. */
	private static String hostAndPortOf(String authority) {
		return (authority != null) ? authority.substring(authority.lastIndexOf('@') + 1) : "(no host)";
	}

	private static boolean isShorter(String explicit, long budgetMillis) {
		try {
			long value = Long.parseLong(explicit.trim());
			return value >= 0 && value <= budgetMillis;
		}
		catch (NumberFormatException ex) {
			return false;
		}
	}

	/**
	 * When the call failed because its context was cancelled by another of the context's cancel
	 * actions (Apache's exec handler aborts the exchange from a listener of its own), waits
	 * briefly for the cancel to reach this call's operation too, which the cancelling thread is
	 * about to do: removing the operation first would keep the cancel out of the meters. The
	 * interrupt it may send is cleared by {@link Exchange#finish()}. Only on failure paths: the
	 * call's, and the body read's.
	 */
	static void awaitCancelAction(RequestContext context, Operation operation) {
		if (!context.isCancelled() || operation.wasCancelled()) {
			return;
		}
		long giveUpAt = System.nanoTime() + CANCEL_ACTION_WAIT_NANOS;
		while (!operation.wasCancelled() && System.nanoTime() - giveUpAt < 0) {
			Thread.onSpinWait();
		}
	}

	private static void end(Operation operation, Exchange exchange) {
		// Unlink first, so that no cancel action can start after the interrupt window closes.
		operation.remove();
		exchange.finish();
	}

	/**
	 * Returns the exception to throw if the failure came from the context's cancellation, and
	 * reports the cancellation if it stopped the operation. Used for failures while the call
	 * executes and while its body is read.
	 */
	ContextCancelledException cancelledBy(RequestContext context, Operation operation, Throwable failure) {
		if (failure instanceof ContextCancelledException) {
			return null; // already translated further down the chain
		}
		ContextCancelledException cancelled = Contexts.cancellationException(context, failure);
		if (cancelled != null && operation.wasCancelled()) {
			this.observer.operationCancelled(OPERATION_KIND, cancelled.getCancellationCause(),
					System.nanoTime() - operation.cancelSignalNanos());
		}
		return cancelled;
	}

	/** What an operator sees: method, scheme, host, port and path; never query or user info. */
	static String describe(HttpRequest request) {
		return describe(request.getMethod().name(), request.getURI());
	}

	/** What an operator sees of a call with the given method and URI. */
	static String describe(String method, URI uri) {
		String path = uri.getRawPath();
		String host = uri.getHost();
		int port = uri.getPort();
		StringBuilder sb = new StringBuilder(64);
		sb.append(method).append(' ');
		if (uri.getScheme() != null) {
			sb.append(uri.getScheme()).append("://");
		}
		if (host != null) {
			sb.append(host);
			if (port != -1) {
				sb.append(':').append(port);
			}
		}
		sb.append((path != null && !path.isEmpty()) ? path : "/");
		return sb.toString();
	}

	ContextObserver observer() {
		return this.observer;
	}

	UnboundOperations unbound() {
		return this.unbound;
	}

	private static long saturatedNanos(Duration duration) {
		try {
			return duration.toNanos();
		}
		catch (ArithmeticException ex) {
			return Long.MAX_VALUE;
		}
	}

	private static void requireHeaderName(String name) {
		if (name == null || name.isBlank()) {
			throw new IllegalArgumentException("header name must not be empty");
		}
	}

	@Override
	public String toString() {
		return "ContextPropagatingInterceptor[budgetHeader=" + this.budgetHeader + ", requestIdHeader="
				+ this.requestIdHeader + ", safetyMargin=" + Duration.ofNanos(this.safetyMarginNanos)
				+ ", internalHosts=" + this.internalHosts + "]";
	}

}
