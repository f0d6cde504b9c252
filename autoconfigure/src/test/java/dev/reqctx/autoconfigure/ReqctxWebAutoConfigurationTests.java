package dev.reqctx.autoconfigure;

import dev.reqctx.web.ClientGoneDetector;
import dev.reqctx.web.ContextCancelledExceptionResolver;
import dev.reqctx.web.RequestContextFilter;
import jakarta.servlet.DispatcherType;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.core.Ordered;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ReqctxWebAutoConfiguration}.
 */
class ReqctxWebAutoConfigurationTests {

	private final WebApplicationContextRunner runner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ReqctxAutoConfiguration.class, ReqctxWebAutoConfiguration.class));

	@Test
	void registersTheFilterEarlyForRequestAndAsyncDispatch() {
		this.runner.run((context) -> {
			FilterRegistrationBean<?> registration = context.getBean("reqctxFilterRegistration",
					FilterRegistrationBean.class);
			assertThat(registration.getFilter()).isInstanceOf(RequestContextFilter.class);
			assertThat(registration.getOrder()).isEqualTo(Ordered.HIGHEST_PRECEDENCE + 2)
				.as("before Spring Security's filter chain")
				.isLessThan(-100);
			assertThat(registration.determineDispatcherTypes()).containsExactlyInAnyOrder(DispatcherType.REQUEST,
					DispatcherType.ASYNC);
			assertThat(context).hasSingleBean(ContextCancelledExceptionResolver.class);
		});
	}

	@Test
	void detectsClientsThatGoAwayOnTomcatUnlessSwitchedOff() {
		this.runner.run((context) -> assertThat(context).getBean(ClientGoneDetector.class)
			.satisfies((detector) -> assertThat(detector.isSupported()).as("this Tomcat's internals are found").isTrue()));
		this.runner.withPropertyValues("reqctx.web.detect-client-gone=false")
			.run((context) -> assertThat(context).doesNotHaveBean(ClientGoneDetector.class));
		this.runner.withClassLoader(new FilteredClassLoader("org.apache.catalina"))
			.run((context) -> assertThat(context).hasBean("reqctxFilterRegistration")
				.doesNotHaveBean(ClientGoneDetector.class));
	}

	@Test
	void filterOrderIsConfigurable() {
		this.runner.withPropertyValues("reqctx.web.filter-order=42")
			.run((context) -> assertThat(context.getBean("reqctxFilterRegistration", FilterRegistrationBean.class)
				.getOrder()).isEqualTo(42));
	}

	@Test
	void webDisabledRegistersNoFilter() {
		this.runner.withPropertyValues("reqctx.web.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean("reqctxFilterRegistration")
				.doesNotHaveBean(ContextCancelledExceptionResolver.class));
	}

	@Test
	void reqctxDisabledRegistersNothing() {
		this.runner.withPropertyValues("reqctx.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean("reqctxFilterRegistration")
				.doesNotHaveBean(ReqctxProperties.class)
				.doesNotHaveBean(ContextCancelledExceptionResolver.class));
	}

	@Test
	void problemResponsesCanBeSwitchedOff() {
		// Issue #12: off means no reqctx body; the resolver stays, so the status stays 504/503
		// (ErrorResponsesIntegrationTests checks that over HTTP).
		this.runner.withPropertyValues("reqctx.web.problem-responses=false")
			.run((context) -> assertThat(context).hasBean("reqctxFilterRegistration")
				.getBean(ContextCancelledExceptionResolver.class)
				.hasFieldOrPropertyWithValue("problemResponses", false));
		this.runner.run((context) -> assertThat(context).getBean(ContextCancelledExceptionResolver.class)
			.hasFieldOrPropertyWithValue("problemResponses", true));
	}

	@Test
	void anUnusableTimeoutFailsStartupWithThePropertyToChange() {
		this.runner.withPropertyValues("reqctx.web.default-timeout=0s")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("reqctx.web.default-timeout must be a positive duration"));
	}

	@Test
	void anInvalidPathPatternFailsStartupWithThePattern() {
		this.runner.withPropertyValues("reqctx.web.path-timeouts[/a/**/b/**]=1s")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.hasStackTraceContaining("reqctx.web.path-timeouts has an invalid path pattern '/a/**/b/**'"));
	}

}
