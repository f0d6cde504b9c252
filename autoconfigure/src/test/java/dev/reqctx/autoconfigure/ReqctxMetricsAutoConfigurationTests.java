package dev.reqctx.autoconfigure;

import dev.reqctx.actuate.ContextMeters;
import dev.reqctx.spi.ContextObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ReqctxMetricsAutoConfiguration}.
 */
class ReqctxMetricsAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ReqctxAutoConfiguration.class, ReqctxMetricsAutoConfiguration.class))
		.withUserConfiguration(Registry.class);

	@Test
	void registersTheObserverWithAMeterRegistry() {
		this.runner.run((context) -> {
			assertThat(context).hasSingleBean(ContextMeters.class);
			assertThat(context.getBean(MeterRegistry.class).find("reqctx.requests.active").gauge()).isNotNull();
		});
	}

	@Test
	void metricsDisabledRegistersNoObserverAndNoMeter() {
		this.runner.withPropertyValues("reqctx.metrics.enabled=false").run((context) -> {
			assertThat(context).doesNotHaveBean(ContextObserver.class);
			assertThat(context.getBean(MeterRegistry.class).find("reqctx.requests.active").gauge()).isNull();
		});
	}

	@Test
	void withoutAMeterRegistryRegistersNoObserver() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(ReqctxAutoConfiguration.class, ReqctxMetricsAutoConfiguration.class))
			.run((context) -> assertThat(context).doesNotHaveBean(ContextObserver.class));
	}

	@Configuration(proxyBeanMethods = false)
	static class Registry {

		@Bean
		MeterRegistry meterRegistry() {
			return new SimpleMeterRegistry();
		}

	}

}
