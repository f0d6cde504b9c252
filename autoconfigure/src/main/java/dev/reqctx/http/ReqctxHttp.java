package dev.reqctx.http;

import org.springframework.web.client.RestClient;

/**
 * Entry points for outbound HTTP clients built by hand; Spring Boot's {@code RestClient.Builder}
 * and {@code RestTemplateBuilder} get the same through auto-configuration.
 *
 * <pre>
 * RestClient client = ReqctxHttp.configure(RestClient.builder()).baseUrl(url).build();
 * // or
 * RestClient client = RestClient.builder().requestInterceptor(ReqctxHttp.interceptor()).build();
 * </pre>
 */
public final class ReqctxHttp {

	private static final ContextPropagatingInterceptor DEFAULT = new ContextPropagatingInterceptor();

	private ReqctxHttp() {
	}

	/**
	 * Returns an interceptor with the default settings ({@code Request-Timeout-Ms},
	 * {@code X-Request-Id}, 10 ms safety margin, no propagated headers, no metrics) and no
	 * internal host: it sends the budget, but the request id to no host until
	 * {@link ContextPropagatingInterceptor#withInternalHosts(java.util.Collection) withInternalHosts}
	 * names some. Use {@code with...} on it to change them.
	 * @return the interceptor
	 */
	public static ContextPropagatingInterceptor interceptor() {
		return DEFAULT;
	}

	/**
	 * Adds the default interceptor to the given builder, unless it already has one.
	 * @param builder the builder
	 * @return the builder
	 */
	public static RestClient.Builder configure(RestClient.Builder builder) {
		return configure(builder, DEFAULT);
	}

	/**
	 * Adds the given interceptor to the given builder, unless it already has a
	 * {@link ContextPropagatingInterceptor}.
	 * @param builder the builder
	 * @param interceptor the interceptor
	 * @return the builder
	 */
	public static RestClient.Builder configure(RestClient.Builder builder, ContextPropagatingInterceptor interceptor) {
		return builder.requestInterceptors((interceptors) -> {
			if (interceptors.stream().noneMatch(ContextPropagatingInterceptor.class::isInstance)) {
				interceptors.add(interceptor);
			}
		});
	}

}
