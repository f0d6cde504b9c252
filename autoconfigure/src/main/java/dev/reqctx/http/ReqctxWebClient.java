package dev.reqctx.http;

import java.util.Objects;
import java.util.function.Function;

import dev.reqctx.RequestContext;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

import org.springframework.web.reactive.function.client.WebClient;

/**
 * Entry points for {@code WebClient}: the filter for a builder made by hand (Spring Boot's
 * {@code WebClient.Builder} gets it through auto-configuration), and the Reactor
 * {@code Context} key that carries a {@link RequestContext} through a reactive chain.
 *
 * <pre>
 * WebClient client = ReqctxWebClient.configure(WebClient.builder()).baseUrl(url).build();
 *
 * // A chain subscribed away from the handler's thread, without automatic context propagation:
 * Mono&lt;String&gt; price = client.get().uri("/price").retrieve().bodyToMono(String.class)
 *         .contextWrite(ReqctxWebClient.withContext(RequestContext.current()));
 *
 * // The context in an operator, on whatever thread it runs:
 * price.transformDeferredContextual((mono, view) -&gt; mono.map((p) -&gt; p + " for "
 *         + ReqctxWebClient.contextOf(view).id()));
 * </pre>
 *
 * <p>With Reactor's automatic context propagation on ({@code spring.reactor.context-propagation=auto},
 * or {@code Hooks.enableAutomaticContextPropagation()}), reqctx's Micrometer
 * {@code ThreadLocalAccessor} puts the subscribing thread's context under {@link #CONTEXT_KEY}
 * at {@code block()} and wherever Reactor captures thread locals, and binds it around each
 * signal, so {@link RequestContext#current()} works in {@code map} and the like on Reactor
 * Netty's threads; Reactor restores the thread after each signal.
 */
public final class ReqctxWebClient {

	/**
	 * The Reactor {@code Context} key of the {@link RequestContext}: the key of reqctx's
	 * Micrometer {@code ThreadLocalAccessor} ({@code RequestContextThreadLocalAccessor.KEY}), so
	 * that automatic context propagation and {@link #withContext(RequestContext)} agree.
	 */
	public static final String CONTEXT_KEY = "dev.reqctx.RequestContext";

	private static final ContextPropagatingExchangeFilter DEFAULT = new ContextPropagatingExchangeFilter();

	private ReqctxWebClient() {
	}

	/**
	 * Returns a filter with the default settings of {@link ReqctxHttp#interceptor()}: it sends
	 * the budget, and the request id to no host until its interceptor names internal hosts.
	 * @return the filter
	 */
	public static ContextPropagatingExchangeFilter filter() {
		return DEFAULT;
	}

	/**
	 * Adds the default filter to the given builder, last, unless it already has one.
	 * @param builder the builder
	 * @return the builder
	 */
	public static WebClient.Builder configure(WebClient.Builder builder) {
		return configure(builder, DEFAULT);
	}

	/**
	 * Adds the given filter to the given builder, last, unless it already has a
	 * {@link ContextPropagatingExchangeFilter}.
	 * @param builder the builder
	 * @param filter the filter
	 * @return the builder
	 */
	public static WebClient.Builder configure(WebClient.Builder builder, ContextPropagatingExchangeFilter filter) {
		Objects.requireNonNull(filter, "filter must not be null");
		return builder.filters((filters) -> {
			if (filters.stream().noneMatch(ContextPropagatingExchangeFilter.class::isInstance)) {
				filters.add(filter);
			}
		});
	}

	/**
	 * Returns a function for {@code contextWrite} that makes the given context the one of the
	 * exchanges subscribed upstream, whatever thread subscribes them.
	 * @param context the context
	 * @return the function
	 */
	public static Function<Context, Context> withContext(RequestContext context) {
		Objects.requireNonNull(context, "context must not be null");
		return (reactorContext) -> reactorContext.put(CONTEXT_KEY, context);
	}

	/**
	 * Returns the context a reactive chain runs under: the one in its Reactor {@code Context},
	 * else the calling thread's {@link RequestContext#current()}.
	 * @param view the chain's Reactor context
	 * @return the context, never {@code null}
	 */
	public static RequestContext contextOf(ContextView view) {
		return ContextPropagatingExchangeFilter.contextOf(view);
	}

}
