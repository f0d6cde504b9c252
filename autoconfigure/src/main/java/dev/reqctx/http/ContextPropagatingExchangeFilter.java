package dev.reqctx.http;

import java.util.Objects;

import dev.reqctx.ContextCancelledException;
import dev.reqctx.RequestContext;
import dev.reqctx.spi.Contexts;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.ExchangeFunction;

/**
 * An {@link ExchangeFilterFunction} that runs every exchange of a {@code WebClient} under the
 * caller's {@link RequestContext}, with the same settings and the same wire contract as the
 * {@link ContextPropagatingInterceptor} of {@code RestClient} that it is made from.
 *
 * <p><b>Which context.</b> The filter runs when the exchange is subscribed to (for
 * {@code block()} and for a {@code Mono} returned from a Spring MVC handler, on the handler's
 * thread). It takes the context from the Reactor {@code Context} under
 * {@link ReqctxWebClient#CONTEXT_KEY} if one is there, else the thread's
 * {@link RequestContext#current()}. The key is the one of reqctx's Micrometer
 * {@code ThreadLocalAccessor}, so with Reactor's automatic context propagation
 * ({@code spring.reactor.context-propagation=auto}) the handler's context is there wherever the
 * chain is subscribed; without it, {@link ReqctxWebClient#withContext(RequestContext)} puts it
 * there by hand, for a chain subscribed on another thread.
 *
 * <p>Per exchange it:
 * <ul>
 * <li>fails with the context's {@link ContextCancelledException} (a
 * {@code DeadlineExceededException} when the deadline passed), before any connection is opened,
 * if the context is already cancelled;
 * <li>sends the budget header to every host, and the request id and propagated headers only to
 * the internal hosts, exactly as the interceptor does;
 * <li>shows the exchange in the live tree as an {@code "http"} operation from the subscription
 * until the response body has ended, failed or been cancelled (or, for a body nobody reads,
 * until the context ends);
 * <li>when the context is cancelled in that time, cancels the exchange's subscription
 * (Reactor Netty then closes the connection, whether it waits for the response or is reading
 * its body) and signals the context's exception, with the abort as its cause, to the
 * subscriber: {@code block()} throws it, and a Spring MVC handler answers {@code 504} /
 * {@code 503} through reqctx's exception handling;
 * <li>treats a downstream {@code 504} that arrives within the safety margin of the deadline as
 * the caller's own deadline passing, as the interceptor does.
 * </ul>
 *
 * <p>The error signal of a cancelled exchange is delivered on the thread that cancelled the
 * context (a reqctx cancel thread for a deadline, the operator's request thread for an operator
 * cancel), as Reactor's {@code timeout()} delivers on its timer: keep blocking work out of the
 * operators that handle it, or {@code publishOn} a scheduler. The filter binds nothing to any
 * thread.
 *
 * <p>Add it last to a builder (so that it sees the URL other filters resolve); for a builder
 * made by hand, {@link ReqctxWebClient#configure(org.springframework.web.reactive.function.client.WebClient.Builder)}.
 * Instances are immutable and thread-safe.
 */
public final class ContextPropagatingExchangeFilter implements ExchangeFilterFunction {

	private final ContextPropagatingInterceptor settings;

	/** Creates a filter with the default settings of {@link ReqctxHttp#interceptor()}. */
	public ContextPropagatingExchangeFilter() {
		this(ReqctxHttp.interceptor());
	}

	/**
	 * Creates a filter with the settings (headers, safety margin, internal hosts, observer) of
	 * the given interceptor, so that {@code RestClient} and {@code WebClient} calls behave alike.
	 * @param settings the interceptor whose settings to use
	 */
	public ContextPropagatingExchangeFilter(ContextPropagatingInterceptor settings) {
		this.settings = Objects.requireNonNull(settings, "settings must not be null");
	}

	@Override
	public Mono<ClientResponse> filter(ClientRequest request, ExchangeFunction next) {
		return Mono.deferContextual((view) -> exchange(contextOf(view), request, next));
	}

	private Mono<ClientResponse> exchange(RequestContext context, ClientRequest request, ExchangeFunction next) {
		// Nothing has been sent and no connection taken yet: failing here costs the server nothing.
		ContextCancelledException cancelled = Contexts.cancellationException(context, null);
		if (cancelled != null) {
			return Mono.error(cancelled);
		}
		long remainingNanos = context.remainingNanos();
		ClientRequest outbound = ClientRequest.from(request)
			.headers((headers) -> this.settings.writeHeaders(context, remainingNanos, request.url(), headers))
			.build();
		if (!context.isCancellable()) {
			// Root or detached: nothing can cancel the call, so there is nothing to track.
			this.settings.unbound().check(ContextPropagatingInterceptor.OPERATION_KIND);
			return next.exchange(outbound);
		}
		if (remainingNanos != Long.MAX_VALUE) {
			this.settings.observer().operationStarted(ContextPropagatingInterceptor.OPERATION_KIND, remainingNanos);
		}
		String description = ContextPropagatingInterceptor.describe(request.method().name(), request.url());
		return new ReactiveExchange(context, this.settings, description, remainingNanos != Long.MAX_VALUE)
			.run(outbound, next);
	}

	static RequestContext contextOf(ContextView view) {
		Object value = view.getOrDefault(ReqctxWebClient.CONTEXT_KEY, null);
		return (value instanceof RequestContext context) ? context : RequestContext.current();
	}

	@Override
	public String toString() {
		return "ContextPropagatingExchangeFilter[" + this.settings + "]";
	}

}
