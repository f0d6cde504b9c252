package dev.reqctx.autoconfigure;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.reqctx.http.ContextPropagatingInterceptor;
import org.jspecify.annotations.Nullable;

import org.springframework.util.ClassUtils;
import org.springframework.web.util.pattern.PathPatternParser;

/**
 * Checks every {@code reqctx.*} value once it is bound, before any bean uses it, so that a bad
 * value fails start-up with the property's name and what to change rather than deep inside a
 * bean's constructor.
 */
final class ReqctxPropertiesValidator {

	private static final String HEADER_TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";

	private static final String HOST_EXAMPLES = "such as api.example.internal, *.example.internal or "
			+ "api.example.internal:8443";

	private static final String PACKAGE_NAME = "\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*"
			+ "(\\.\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*)*";

	private ReqctxPropertiesValidator() {
	}

	static void validate(ReqctxProperties properties) {
		ReqctxProperties.Web web = properties.getWeb();
		positive("reqctx.web.default-timeout", web.getDefaultTimeout(), "30s");
		positive("reqctx.web.max-timeout", web.getMaxTimeout(), "5m");
		for (Map.Entry<String, Duration> entry : web.getPathTimeouts().entrySet()) {
			positive("reqctx.web.path-timeouts[" + entry.getKey() + "]", entry.getValue(), "2s");
		}
		if (PathPatterns.PRESENT) {
			PathPatterns.validate(web);
		}
		header("reqctx.web.budget-header", web.getBudgetHeader(), "Request-Timeout-Ms");
		header("reqctx.web.request-id-header", web.getRequestIdHeader(), "X-Request-Id");
		ReqctxProperties.Jdbc jdbc = properties.getJdbc();
		if (jdbc.getMaxSqlLength() < 0) {
			throw new InvalidReqctxPropertyException("reqctx.jdbc.max-sql-length", jdbc.getMaxSqlLength(),
					"must not be negative", "Set reqctx.jdbc.max-sql-length to 0 or more (default 200).");
		}
		positive("reqctx.jdbc.cancel-retry-interval", jdbc.getCancelRetryInterval(), "100ms");
		notNegative("reqctx.jdbc.abort-after", jdbc.getAbortAfter(), "1s");
		ReqctxProperties.Http http = properties.getHttp();
		notNegative("reqctx.http.safety-margin", http.getSafetyMargin(), "10ms");
		header("reqctx.http.budget-header", http.getBudgetHeader(), "Request-Timeout-Ms");
		header("reqctx.http.request-id-header", http.getRequestIdHeader(), "X-Request-Id");
		List<String> propagated = http.getPropagateHeaders();
		for (int i = 0; i < propagated.size(); i++) {
			header("reqctx.http.propagate-headers[" + i + "]", propagated.get(i), "X-Tenant");
		}
		List<String> internalHosts = http.getInternalHosts();
		for (int i = 0; i < internalHosts.size(); i++) {
			internalHost("reqctx.http.internal-hosts[" + i + "]", internalHosts.get(i));
		}
		int history = properties.getTask().getLeakHistory();
		if (history < 1) {
			throw new InvalidReqctxPropertyException("reqctx.task.leak-history", history, "must be at least 1",
					"Set reqctx.task.leak-history to how many orphaned tasks to remember, 1 or more (default 50).");
		}
		notNegative("reqctx.shutdown.margin", properties.getShutdown().getMargin(), "1s");
		if (properties.getCancel().getHistory() < 0) {
			throw new InvalidReqctxPropertyException("reqctx.cancel.history", properties.getCancel().getHistory(),
					"must not be negative", "Set reqctx.cancel.history to how many cancellations to keep, 0 or more (default 20).");
		}
		positive("reqctx.cancel.straggler-after", properties.getCancel().getStragglerAfter(), "500ms");
		Duration grpcTimeout = properties.getGrpc().getServer().getDefaultTimeout();
		if (grpcTimeout != null) {
			positive("reqctx.grpc.server.default-timeout", grpcTimeout, "30s");
		}
		ReqctxProperties.Messaging messaging = properties.getMessaging();
		if (messaging.getDefaultTimeout() != null) {
			positive("reqctx.messaging.default-timeout", messaging.getDefaultTimeout(), "30s");
		}
		for (Map.Entry<String, Duration> entry : messaging.getTimeouts().entrySet()) {
			positive("reqctx.messaging.timeouts[" + entry.getKey() + "]", entry.getValue(), "30s");
		}
		ReqctxProperties.Scheduling scheduling = properties.getScheduling();
		if (scheduling.getDefaultTimeout() != null) {
			positive("reqctx.scheduling.default-timeout", scheduling.getDefaultTimeout(), "10m");
		}
		for (Map.Entry<String, Duration> entry : scheduling.getTimeouts().entrySet()) {
			positive("reqctx.scheduling.timeouts[" + entry.getKey() + "]", entry.getValue(), "10m");
		}
	}

	static void validate(RequestContextsEndpointProperties endpoint) {
		int max = endpoint.getMaxLimit();
		if (max < 1) {
			throw new InvalidReqctxPropertyException("management.endpoint.requestcontexts.max-limit", max,
					"must be at least 1",
					"Set management.endpoint.requestcontexts.max-limit to the most requests one listing may show (default 1000).");
		}
		int limit = endpoint.getDefaultLimit();
		if (limit < 1 || limit > max) {
			throw new InvalidReqctxPropertyException("management.endpoint.requestcontexts.default-limit", limit,
					"must be between 1 and max-limit (" + max + ")",
					"Set management.endpoint.requestcontexts.default-limit between 1 and " + max
							+ ", or raise management.endpoint.requestcontexts.max-limit.");
		}
		List<String> packages = endpoint.getApplicationPackages();
		for (int i = 0; i < packages.size(); i++) {
			String pkg = packages.get(i);
			if (pkg == null || !pkg.matches(PACKAGE_NAME)) {
				String property = "management.endpoint.requestcontexts.application-packages[" + i + "]";
				throw new InvalidReqctxPropertyException(property, pkg, "must be a package name",
						"Set " + property + " to a Java package name such as com.example.shop (its sub-packages are"
								+ " included; no wildcards).");
			}
		}
	}

	private static void positive(String property, @Nullable Duration value, String example) {
		if (value == null || value.isNegative() || value.isZero()) {
			throw new InvalidReqctxPropertyException(property, value, "must be a positive duration (such as " + example
					+ ")", "Set " + property + " to a positive duration such as " + example + ", or remove it to use the default.");
		}
	}

	private static void notNegative(String property, @Nullable Duration value, String example) {
		if (value == null || value.isNegative()) {
			throw new InvalidReqctxPropertyException(property, value, "must be zero or a positive duration",
					"Set " + property + " to a duration such as " + example + ", or remove it to use the default.");
		}
	}

	private static void header(String property, @Nullable String value, String example) {
		if (value == null || !value.matches(HEADER_TOKEN)) {
			throw new InvalidReqctxPropertyException(property, value, "must name a header",
					"Set " + property + " to a header name (letters, digits and '-', such as " + example + ").");
		}
	}

	private static void internalHost(String property, @Nullable String value) {
		if (value == null || value.isBlank()) {
			throw new InvalidReqctxPropertyException(property, value, "must not be empty",
					"Set " + property + " to a host, " + HOST_EXAMPLES + ", or remove it.");
		}
		String host = value.trim();
		if (host.contains("://")) {
			throw new InvalidReqctxPropertyException(property, value, "must be a host, not a URL",
					"Set " + property + " to the host alone, without http:// or https://, " + HOST_EXAMPLES + ".");
		}
		if (host.indexOf('/') >= 0 || host.indexOf('?') >= 0 || host.indexOf('#') >= 0) {
			throw new InvalidReqctxPropertyException(property, value, "must be a host without a path",
					"Set " + property + " to the host alone, without a path, " + HOST_EXAMPLES + ".");
		}
		int colon = host.lastIndexOf(':');
		int bracket = host.lastIndexOf(']');
		// host:port or [v6]:port; a bare IPv6 address (several colons) is left to the pattern check.
		if (colon > bracket && (bracket >= 0 || host.indexOf(':') == colon) && !isPort(host.substring(colon + 1))) {
			throw new InvalidReqctxPropertyException(property, value, "must have a port from 1 to 65535",
					"Set " + property + " to a host with a port from 1 to 65535, such as api.example.internal:8443, "
							+ "or to the host alone for every port.");
		}
		if (InternalHostPatterns.PRESENT) {
			InternalHostPatterns.validate(property, value);
		}
	}

	private static boolean isPort(String value) {
		if (!value.matches("[0-9]{1,5}")) {
			return false;
		}
		int port = Integer.parseInt(value);
		return port >= 1 && port <= 65535;
	}

	/**
	 * The rest of the pattern syntax (where a '*' may go, IPv6 brackets, allowed characters) is
	 * the interceptor's own, checked by it where the HTTP integration is on the classpath.
	 */
	private static final class InternalHostPatterns {

		static final boolean PRESENT = ClassUtils.isPresent(
				"org.springframework.http.client.ClientHttpRequestInterceptor",
				ReqctxPropertiesValidator.class.getClassLoader());

		static void validate(String property, String value) {
			try {
				new ContextPropagatingInterceptor().withInternalHosts(List.of(value));
			}
			catch (IllegalArgumentException ex) {
				throw new InvalidReqctxPropertyException(property, value,
						"must be a host name or IP literal, *.domain or *, optionally with :port",
						"Set " + property + " to a host name or IP literal (an IPv6 one in brackets), *.domain for "
								+ "its subdomains, either with :port for one port only, or * for every host, "
								+ HOST_EXAMPLES + ".",
						ex);
			}
		}

	}

	/** Path patterns are Spring Web's: only checked where it is present. */
	private static final class PathPatterns {

		static final boolean PRESENT = ClassUtils.isPresent("org.springframework.web.util.pattern.PathPatternParser",
				ReqctxPropertiesValidator.class.getClassLoader());

		static void validate(ReqctxProperties.Web web) {
			for (String pattern : web.getPathTimeouts().keySet()) {
				try {
					PathPatternParser.defaultInstance.parse(pattern);
				}
				catch (RuntimeException ex) {
					throw new InvalidReqctxPropertyException("reqctx.web.path-timeouts", pattern,
							"has an invalid path pattern '" + pattern + "'", "Fix the key of reqctx.web.path-timeouts["
									+ pattern + "]: a Spring path pattern such as /api/** ('**' only at the end).",
							ex);
				}
			}
		}

	}

}
