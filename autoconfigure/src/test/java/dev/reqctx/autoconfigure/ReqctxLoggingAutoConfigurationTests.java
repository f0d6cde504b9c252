package dev.reqctx.autoconfigure;

import java.time.Duration;

import dev.reqctx.CancellableContext;
import dev.reqctx.RequestContext;
import dev.reqctx.logging.MdcContextBinder;
import dev.reqctx.spi.ThreadContextBinder;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

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
	void theDeadlineIsBoundOnlyWithItsProperty() {
		this.runner.run((context) -> assertThat(deadlineBoundBy(context.getBean(MdcContextBinder.class))).isNull());
		this.runner.withPropertyValues("reqctx.logging.deadline=true")
			.run((context) -> assertThat(deadlineBoundBy(context.getBean(MdcContextBinder.class))).isNotNull());
	}

	private static String deadlineBoundBy(MdcContextBinder binder) {
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(5));
				ThreadContextBinder.Restore restore = binder.bind(ctx)) {
			return MDC.get(MdcContextBinder.DEADLINE);
		}
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
