package dev.reqctx.logging;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The default correlation pattern that puts the request id into Boot's default log patterns:
 * there when nothing else correlates, gone when the application or a tracer does. (That a line
 * really carries it is tested in {@code examples/secured-endpoint}, whose JVM starts logging
 * with no tracer: Boot initializes logging once per JVM.)
 */
class LogCorrelationTests {

	@Test
	void withoutATracerOrAPatternOfTheApplicationsTheRequestIdIsTheCorrelation() {
		assertThat(correlation("management.tracing.export.enabled=false")).isEqualTo("[%X{reqctx.requestId:-}] ");
	}

	@Test
	void theApplicationsOwnCorrelationPatternWins() {
		assertThat(correlation("management.tracing.export.enabled=false", "logging.pattern.correlation=<own> "))
			.isEqualTo("<own> ");
	}

	@Test
	void aTracerThatCorrelatesKeepsBootsCorrelation() {
		assertThat(correlation("management.tracing.export.enabled=true")).isNull();
	}

	@Test
	void noneWhenReqctxOrItsLoggingIsOff() {
		assertThat(correlation("management.tracing.export.enabled=false", "reqctx.logging.enabled=false")).isNull();
		assertThat(correlation("management.tracing.export.enabled=false", "reqctx.enabled=false")).isNull();
	}

	private static @Nullable String correlation(String... settings) {
		try (ConfigurableApplicationContext application = new SpringApplicationBuilder(Empty.class)
			.web(WebApplicationType.NONE)
			.properties("spring.main.banner-mode=off")
			.properties(settings)
			.run()) {
			return application.getEnvironment().getProperty("logging.pattern.correlation");
		}
	}

	@SpringBootConfiguration
	static class Empty {

	}

}
