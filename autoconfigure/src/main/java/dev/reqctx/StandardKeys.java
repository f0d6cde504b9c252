package dev.reqctx;

import java.util.Map;

/**
 * The context keys that reqctx's own integrations set and read.
 */
public final class StandardKeys {

	/**
	 * The request id: taken from the inbound {@code X-Request-Id} header when valid, generated
	 * otherwise; echoed on the response and sent on outbound calls.
	 */
	public static final ContextKey<String> REQUEST_ID = ContextKey.named("requestId");

	/**
	 * Inbound headers captured for propagation to outbound calls
	 * ({@code reqctx.http.propagate-headers}), by header name as configured; immutable.
	 */
	public static final ContextKey<Map<String, String>> PROPAGATED_HEADERS = ContextKey.named("propagatedHeaders");

	/**
	 * The trace id of the request's span, when a tracer is present.
	 */
	public static final ContextKey<String> TRACE_ID = ContextKey.named("traceId");

	private StandardKeys() {
	}

}
