package dev.reqctx.autoconfigure;

import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.core.io.ClassPathResource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checks the configuration metadata that the configuration processor generates, which is what
 * gives {@code application.yml} completion and help in IDEs.
 */
class ConfigurationMetadataTests {

	@Test
	void everyReqctxPropertyIsListedWithADescription() throws Exception {
		Map<String, JsonNode> properties = properties();
		assertThat(properties).containsKeys("reqctx.enabled", "reqctx.strict", "reqctx.web.enabled",
				"reqctx.web.default-timeout", "reqctx.web.max-timeout", "reqctx.web.path-timeouts",
				"reqctx.web.budget-header", "reqctx.web.accept-grpc-timeout", "reqctx.web.accept-envoy-timeout",
				"reqctx.web.reject-invalid-budget",
				"reqctx.web.request-id-header", "reqctx.web.problem-responses", "reqctx.web.filter-order",
				"reqctx.jdbc.enabled", "reqctx.jdbc.max-sql-length", "reqctx.jdbc.cancel-retry-interval",
				"reqctx.jdbc.abort-after", "reqctx.http.enabled", "reqctx.http.propagate-headers",
				"reqctx.http.internal-hosts", "reqctx.task.enabled",
				"reqctx.logging.enabled", "reqctx.logging.deadline", "reqctx.tracing.enabled",
				"management.endpoint.requestcontexts.show-values", "management.endpoint.requestcontexts.roles",
				"management.endpoint.requestcontexts.default-limit", "management.endpoint.requestcontexts.max-limit",
				"management.endpoint.requestcontexts.stack", "management.endpoint.requestcontexts.application-packages",
				"management.endpoint.requestcontexts.html.enabled");
		properties.forEach((name, property) -> {
			if (name.startsWith("reqctx.") || name.startsWith("management.endpoint.requestcontexts.")) {
				assertThat(property.path("description").asString()).as("description of %s", name).isNotBlank();
			}
		});
	}

	@Test
	void durationsAndDefaultsAreDocumented() throws Exception {
		Map<String, JsonNode> properties = properties();
		assertThat(properties.get("reqctx.web.default-timeout").get("type").asString()).isEqualTo("java.time.Duration");
		assertThat(properties.get("reqctx.web.default-timeout").get("defaultValue").asString()).isEqualTo("30s");
		assertThat(properties.get("reqctx.web.budget-header").get("defaultValue").asString())
			.isEqualTo("Request-Timeout-Ms");
		assertThat(properties.get("management.endpoint.requestcontexts.default-limit").get("defaultValue").asInt())
			.isEqualTo(100);
		assertThat(properties.get("management.endpoint.requestcontexts.max-limit").get("defaultValue").asInt())
			.isEqualTo(1000);
		assertThat(properties.get("management.endpoint.requestcontexts.stack").get("defaultValue").asString())
			.isEqualTo("folded");
		assertThat(properties.get("management.endpoint.requestcontexts.html.enabled").get("defaultValue").asBoolean())
			.isFalse();
	}

	@Test
	void autoConfigurationsAreIndexedForFastStartupConditions() throws Exception {
		ClassPathResource index = new ClassPathResource("META-INF/spring-autoconfigure-metadata.properties");
		assertThat(index.exists()).as("written by spring-boot-autoconfigure-processor").isTrue();
		String content = index.getContentAsString(java.nio.charset.StandardCharsets.UTF_8);
		assertThat(content).contains("dev.reqctx.autoconfigure.ReqctxWebAutoConfiguration");
	}

	private static Map<String, JsonNode> properties() throws Exception {
		ClassPathResource resource = new ClassPathResource("META-INF/spring-configuration-metadata.json");
		assertThat(resource.exists()).as("written by spring-boot-configuration-processor").isTrue();
		JsonNode root;
		try (InputStream in = resource.getInputStream()) {
			root = JsonMapper.builder().build().readTree(in);
		}
		Map<String, JsonNode> byName = new HashMap<>();
		for (JsonNode property : root.get("properties")) {
			byName.put(property.get("name").asString(), property);
		}
		return byName;
	}


}
