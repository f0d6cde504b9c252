package dev.reqctx.autoconfigure;

import dev.reqctx.web.WebTestApplication;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;

/**
 * A real application started with a bad {@code reqctx.*} value fails with Spring Boot's
 * "APPLICATION FAILED TO START" report: the property, its value and origin, and what to change.
 */
@ExtendWith(OutputCaptureExtension.class)
class InvalidConfigurationTests {

	@ParameterizedTest(name = "{0}={1}")
	@CsvSource(delimiter = '|', value = {
			"reqctx.web.default-timeout | 0s | must be a positive duration | to a positive duration such as 30s",
			"reqctx.web.max-timeout | -5s | must be a positive duration | to a positive duration such as 5m",
			"reqctx.web.path-timeouts[/a/**/b/**] | 1s | has an invalid path pattern | ('**' only at the end)",
			"reqctx.web.budget-header | Request Timeout | must name a header | to a header name",
			"reqctx.jdbc.cancel-retry-interval | 0ms | must be a positive duration | such as 100ms",
			"reqctx.jdbc.abort-after | -1s | must be zero or a positive duration | such as 1s",
			"reqctx.http.propagate-headers | X-Tenant: evil | must name a header | to a header name",
			"reqctx.http.internal-hosts | http://api.example.internal | must be a host, not a URL | to the host alone, without http:// or https://",
			"reqctx.http.internal-hosts | api.example.internal/v1 | must be a host without a path | without a path, such as api.example.internal",
			"reqctx.http.internal-hosts | api.example.internal:99999 | must have a port from 1 to 65535 | such as api.example.internal:8443",
			"reqctx.http.internal-hosts | api.*.internal | has a '*' that is not its whole first label | *.domain for its subdomains",
			"reqctx.task.leak-history | 0 | must be at least 1 | 1 or more (default 50)",
			"reqctx.scheduling.timeouts[ReportJobs.*] | 0s | must be a positive duration | such as 10m",
			"reqctx.messaging.default-timeout | -1s | must be a positive duration | such as 30s",
			"reqctx.shutdown.margin | -1s | must be zero or a positive duration | such as 1s",
			"management.endpoint.requestcontexts.default-limit | 0 | must be between 1 and max-limit (1000) | between 1 and 1000",
			"management.endpoint.requestcontexts.application-packages | com.acme.* | must be a package name | such as com.example.shop" })
	void aBadValueFailsStartUpWithWhatToChange(String property, String value, String requirement, String action,
			CapturedOutput output) {
		assertThatException().isThrownBy(() -> start(property + "=" + value));
		String report = output.getAll();
		assertThat(report).contains("APPLICATION FAILED TO START")
			.contains("Description:")
			.contains("for configuration property '" + property.replaceAll("\\[.*", ""))
			.contains("(originating from '")
			.contains(requirement)
			.contains("Action:")
			.contains(action);
	}

	@ParameterizedTest(name = "{0}")
	@CsvSource({ "reqctx.web.default-timeout=soon", "reqctx.task.on-request-end=IGNORE",
			"management.endpoint.requestcontexts.stack=truncated" })
	void aValueThatDoesNotBindIsReportedByBootsOwnAnalyzer(String setting, CapturedOutput output) {
		assertThatException().isThrownBy(() -> start(setting));
		assertThat(output.getAll()).contains("APPLICATION FAILED TO START")
			.contains("Failed to bind properties under '" + setting.substring(0, setting.indexOf('=')) + "'")
			.contains("Action:");
	}

	private static void start(String setting) {
		new SpringApplicationBuilder(WebTestApplication.class)
			.properties("server.port=0", "server.address=127.0.0.1", "spring.main.banner-mode=off",
					"management.endpoints.web.exposure.include=requestcontexts", setting)
			.run()
			.close();
	}

}
