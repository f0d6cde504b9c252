package dev.reqctx.web;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;

/**
 * Captures inbound headers into a context so that outbound calls can copy them downstream
 * ({@code reqctx.http.propagate-headers}, for example a tenant header).
 *
 * <p>The servlet filter captures them when it creates a request's context:
 *
 * <pre>
 * RequestContext ctx = PropagatedHeaders.capture(requestContext, names, request::getHeader);
 * </pre>
 *
 * and the outbound HTTP integration reads {@link StandardKeys#PROPAGATED_HEADERS} back. Only
 * the names configured on the outbound side are sent, so the switch is honoured even if a
 * context carries more.
 */
public final class PropagatedHeaders {

	private PropagatedHeaders() {
	}

	/**
	 * Returns a context that carries the given headers of an inbound request, or the context
	 * itself if none of them is present.
	 * @param context the request's context
	 * @param names the header names to capture, as configured; empty for none
	 * @param lookup returns an inbound header's (first) value by name, or {@code null}
	 * @return the context with {@link StandardKeys#PROPAGATED_HEADERS} set, or {@code context}
	 */
	public static RequestContext capture(RequestContext context, Collection<String> names,
			Function<String, String> lookup) {
		Objects.requireNonNull(context, "context must not be null");
		Map<String, String> captured = capture(names, lookup);
		return captured.isEmpty() ? context : context.withValue(StandardKeys.PROPAGATED_HEADERS, captured);
	}

	/**
	 * Returns the present headers among the given names, by name as configured.
	 * @param names the header names to capture
	 * @param lookup returns a header's value by name, or {@code null}
	 * @return an immutable map, empty if none is present
	 */
	public static Map<String, String> capture(Collection<String> names, Function<String, String> lookup) {
		Objects.requireNonNull(lookup, "lookup must not be null");
		if (names == null || names.isEmpty()) {
			return Map.of();
		}
		Map<String, String> captured = null;
		for (String name : names) {
			String value = lookup.apply(name);
			if (value != null) {
				if (captured == null) {
					captured = new LinkedHashMap<>();
				}
				captured.put(name, value);
			}
		}
		return (captured != null) ? Map.copyOf(captured) : Map.of();
	}

}
