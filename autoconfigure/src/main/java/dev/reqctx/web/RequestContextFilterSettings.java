package dev.reqctx.web;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.springframework.http.server.PathContainer;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;

/**
 * The settings of a {@link RequestContextFilter}, validated once at start-up.
 *
 * @param defaultTimeout deadline of a request without a matching path timeout or budget header
 * @param maxTimeout the longest deadline any request gets
 * @param pathTimeouts per-path deadlines replacing the default, by path pattern, first match wins
 * @param budgetHeader name of the inbound budget header (milliseconds)
 * @param acceptGrpcTimeout whether to also read a {@code grpc-timeout} header
 * @param acceptEnvoyTimeout whether to also read Envoy's {@code x-envoy-expected-rq-timeout-ms}
 * header; of all the budgets a request carries, the shortest wins
 * @param rejectInvalidBudget whether to answer 400 to a malformed budget header
 * @param requestIdHeader name of the request id header
 * @param problemResponses whether to answer cancelled requests with a problem (504/503)
 */
public record RequestContextFilterSettings(Duration defaultTimeout, Duration maxTimeout,
		Map<String, Duration> pathTimeouts, String budgetHeader, boolean acceptGrpcTimeout,
		boolean acceptEnvoyTimeout, boolean rejectInvalidBudget, String requestIdHeader, boolean problemResponses) {

	/**
	 * Validates the settings.
	 * @throws IllegalArgumentException with the property to change, if a value is unusable
	 */
	public RequestContextFilterSettings {
		requirePositive(defaultTimeout, "reqctx.web.default-timeout");
		requirePositive(maxTimeout, "reqctx.web.max-timeout");
		pathTimeouts = (pathTimeouts != null) ? Collections.unmodifiableMap(new LinkedHashMap<>(pathTimeouts)) : Map.of();
		pathTimeouts.forEach((pattern, timeout) -> requirePositive(timeout, "reqctx.web.path-timeouts[" + pattern + "]"));
		requireText(budgetHeader, "reqctx.web.budget-header");
		requireText(requestIdHeader, "reqctx.web.request-id-header");
	}

	/**
	 * Returns the default settings.
	 * @return 30 s default timeout, 5 min maximum, standard header names
	 */
	public static RequestContextFilterSettings defaults() {
		return new RequestContextFilterSettings(Duration.ofSeconds(30), Duration.ofMinutes(5), Map.of(),
				"Request-Timeout-Ms", false, true, false, "X-Request-Id", true);
	}

	private static void requirePositive(Duration value, String property) {
		if (value == null || value.isNegative() || value.isZero()) {
			throw new IllegalArgumentException(property + " must be a positive duration (such as 30s), but was " + value);
		}
	}

	private static void requireText(String value, String property) {
		if (value == null || value.isBlank()) {
			throw new IllegalArgumentException(property + " must name a header, but was '" + value + "'");
		}
	}

	List<PathTimeout> compiledPathTimeouts() {
		List<PathTimeout> result = new ArrayList<>();
		PathPatternParser parser = PathPatternParser.defaultInstance;
		this.pathTimeouts.forEach((pattern, timeout) -> {
			PathPattern compiled;
			try {
				compiled = parser.parse(pattern);
			}
			catch (RuntimeException ex) {
				throw new IllegalArgumentException("reqctx.web.path-timeouts has an invalid path pattern '" + pattern
						+ "': " + ex.getMessage(), ex);
			}
			result.add(new PathTimeout(compiled, Objects.requireNonNull(timeout).toNanos()));
		});
		return result;
	}

	record PathTimeout(PathPattern pattern, long nanos) {

		boolean matches(PathContainer path) {
			return this.pattern.matches(path);
		}

	}

}
