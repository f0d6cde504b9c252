package dev.reqctx.autoconfigure;

import java.time.Duration;
import java.util.List;
import java.util.Map;

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
		int history = properties.getTask().getLeakHistory();
		if (history < 1) {
			throw new InvalidReqctxPropertyException("reqctx.task.leak-history", history, "must be at least 1",
					"Set reqctx.task.leak-history to how many orphaned tasks to remember, 1 or more (default 50).");
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
