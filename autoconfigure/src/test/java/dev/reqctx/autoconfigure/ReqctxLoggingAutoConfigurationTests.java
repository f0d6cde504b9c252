package dev.reqctx.autoconfigure;

import dev.reqctx.logging.MdcContextBinder;
import dev.reqctx.spi.ThreadContextBinder;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ReqctxLoggingAutoConfiguration}.
 */
class ReqctxLoggingAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ReqctxAutoConfiguration.class, ReqctxLoggingAutoConfiguration.class));

	@Test
	void registersTheMdcBinder() {
		this.runner.run((context) -> assertThat(context).hasSingleBean(MdcContextBinder.class));
	}

	@Test
	void loggingDisabledRegistersNoBinder() {
		this.runner.withPropertyValues("reqctx.logging.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(ThreadContextBinder.class));
	}

	@Test
	void withoutSlf4jRegistersNoBinder() {
		this.runner.withClassLoader(new FilteredClassLoader("org.slf4j"))
			.run((context) -> assertThat(context).doesNotHaveBean(ThreadContextBinder.class));
	}

	@Test
	void backsOffFromTheApplicationsOwnMdcBinder() {
		this.runner.withUserConfiguration(OwnBinder.class)
			.run((context) -> assertThat(context).getBean(MdcContextBinder.class).isSameAs(OwnBinder.BINDER));
	}

	@Configuration(proxyBeanMethods = false)
	static class OwnBinder {

		static final MdcContextBinder BINDER = new MdcContextBinder();

		@Bean
		MdcContextBinder ownBinder() {
			return BINDER;
		}

	}

}
