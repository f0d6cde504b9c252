package dev.reqctx.autoconfigure;

import dev.reqctx.tracing.TracingRequestContextCustomizer;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.test.simple.SimpleTracer;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ReqctxTracingAutoConfiguration}.
 */
class ReqctxTracingAutoConfigurationTests {

	private final WebApplicationContextRunner runner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ReqctxAutoConfiguration.class, ReqctxTracingAutoConfiguration.class));

	@Test
	void registersTheCustomizerWhenATracerExists() {
		this.runner.withUserConfiguration(TracerConfiguration.class)
			.run((context) -> assertThat(context).hasSingleBean(TracingRequestContextCustomizer.class));
	}

	@Test
	void registersNothingWithoutATracer() {
		this.runner.run((context) -> assertThat(context).doesNotHaveBean(TracingRequestContextCustomizer.class));
	}

	@Test
	void registersNothingWithoutMicrometerTracingOnTheClasspath() {
		this.runner.withUserConfiguration(TracerConfiguration.class)
			.withClassLoader(new FilteredClassLoader(Tracer.class))
			.run((context) -> assertThat(context).doesNotHaveBean(TracingRequestContextCustomizer.class));
	}

	@Test
	void tracingDisabledRegistersNothing() {
		this.runner.withUserConfiguration(TracerConfiguration.class)
			.withPropertyValues("reqctx.tracing.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(TracingRequestContextCustomizer.class));
	}

	@Test
	void registersNothingOutsideAServletApplication() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(ReqctxAutoConfiguration.class, ReqctxTracingAutoConfiguration.class))
			.withUserConfiguration(TracerConfiguration.class)
			.run((context) -> assertThat(context).doesNotHaveBean(TracingRequestContextCustomizer.class));
	}

	@Configuration(proxyBeanMethods = false)
	static class TracerConfiguration {

		@Bean
		Tracer tracer() {
			return new SimpleTracer();
		}

	}

}
