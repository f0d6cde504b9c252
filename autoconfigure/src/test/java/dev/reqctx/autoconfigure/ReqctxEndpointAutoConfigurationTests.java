package dev.reqctx.autoconfigure;

import java.util.List;
import java.util.Set;

import dev.reqctx.actuate.AuditEventOperatorCancelRecorder;
import dev.reqctx.actuate.RequestContextsEndpoint;
import dev.reqctx.actuate.RequestContextsEndpointWebExtension;
import dev.reqctx.actuate.RequestContextsLiveViewWebExtension;
import dev.reqctx.actuate.StackMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.boot.actuate.audit.InMemoryAuditEventRepository;
import org.springframework.boot.actuate.endpoint.Show;
import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.endpoint.web.WebEndpointAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurationPackages;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ReqctxEndpointAutoConfiguration}.
 */
@ExtendWith(OutputCaptureExtension.class)
class ReqctxEndpointAutoConfigurationTests {

	private final WebApplicationContextRunner runner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ReqctxAutoConfiguration.class, ReqctxEndpointAutoConfiguration.class,
				EndpointAutoConfiguration.class, WebEndpointAutoConfiguration.class));

	@Test
	void endpointIsRegisteredWhenExposed() {
		this.runner.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts")
			.run((context) -> assertThat(context).hasSingleBean(RequestContextsEndpoint.class)
				.hasSingleBean(RequestContextsEndpointWebExtension.class));
	}

	@Test
	void theLiveViewIsOffUnlessEnabled() {
		this.runner.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts")
			.run((context) -> assertThat(context).doesNotHaveBean(RequestContextsLiveViewWebExtension.class));
		this.runner
			.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts",
					"management.endpoint.requestcontexts.html.enabled=true")
			.run((context) -> assertThat(context).hasSingleBean(RequestContextsEndpointWebExtension.class)
				.hasSingleBean(RequestContextsLiveViewWebExtension.class));
	}

	@Test
	void aUserDefinedWebExtensionIsKeptWithTheLiveViewEnabled() {
		this.runner
			.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts",
					"management.endpoint.requestcontexts.html.enabled=true")
			.withBean("customExtension", RequestContextsEndpointWebExtension.class,
					() -> new RequestContextsEndpointWebExtension(new RequestContextsEndpoint(List.of(), Show.NEVER),
							Show.NEVER, Set.of()))
			.run((context) -> assertThat(context).hasSingleBean(RequestContextsEndpointWebExtension.class)
				.hasBean("customExtension")
				.doesNotHaveBean(RequestContextsLiveViewWebExtension.class));
	}

	@Test
	void endpointIsNotRegisteredWhenNotExposed() {
		this.runner.run((context) -> assertThat(context).doesNotHaveBean(RequestContextsEndpoint.class));
	}

	@Test
	void listLimitsAreConfigurable() {
		this.runner
			.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts",
					"management.endpoint.requestcontexts.default-limit=7",
					"management.endpoint.requestcontexts.max-limit=20")
			.run((context) -> assertThat(context.getBean(RequestContextsEndpoint.class))
				.hasFieldOrPropertyWithValue("defaultLimit", 7)
				.hasFieldOrPropertyWithValue("maxLimit", 20));
	}

	@Test
	void stacksAreFoldedUnlessConfiguredOtherwise() {
		this.runner.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts")
			.run((context) -> assertThat(context.getBean(RequestContextsEndpoint.class))
				.hasFieldOrPropertyWithValue("stackMode", StackMode.FOLDED));
		this.runner
			.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts",
					"management.endpoint.requestcontexts.stack=FULL")
			.run((context) -> assertThat(context.getBean(RequestContextsEndpoint.class))
				.hasFieldOrPropertyWithValue("stackMode", StackMode.FULL));
	}

	@Test
	void theApplicationsFramesAreThoseOfItsAutoConfigurationPackagesAndOfTheConfiguredOnes() {
		this.runner
			.withInitializer((context) -> AutoConfigurationPackages
				.register((BeanDefinitionRegistry) context.getBeanFactory(), "com.acme.shop"))
			.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts",
					"management.endpoint.requestcontexts.application-packages=com.acme.billing,com.acme.shop")
			.run((context) -> assertThat(context.getBean(RequestContextsEndpoint.class))
				.hasFieldOrPropertyWithValue("stackFolding.applicationPackages",
						List.of("com.acme.shop.", "com.acme.billing.")));
	}

	@Test
	void withoutAutoConfigurationPackagesOrConfiguredOnesTheApplicationsFramesAreUnknown() {
		this.runner.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts")
			.run((context) -> assertThat(context.getBean(RequestContextsEndpoint.class))
				.hasFieldOrPropertyWithValue("stackFolding.applicationPackages", List.of()));
	}

	@Test
	void anApplicationPackageThatIsNoPackageNameFailsStartupNamingTheProperty() {
		this.runner
			.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts",
					"management.endpoint.requestcontexts.application-packages=com.acme.*")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("management.endpoint.requestcontexts.application-packages[0]"));
	}

	@Test
	void aDefaultLimitAboveTheMaximumFailsStartupNamingTheProperty() {
		this.runner
			.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts",
					"management.endpoint.requestcontexts.default-limit=5000")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("management.endpoint.requestcontexts.default-limit"));
	}

	@Test
	void endpointIsNotRegisteredWhenReqctxIsDisabled() {
		this.runner.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts", "reqctx.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(RequestContextsEndpoint.class));
	}

	@Test
	void operatorCancelsAreAuditedOnlyWhenTheApplicationKeepsAuditEvents() {
		this.runner.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts")
			.run((context) -> assertThat(context).doesNotHaveBean(AuditEventOperatorCancelRecorder.class));
		this.runner.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts")
			.withBean(InMemoryAuditEventRepository.class)
			.run((context) -> assertThat(context).hasSingleBean(AuditEventOperatorCancelRecorder.class));
	}

	@Test
	void enablingTheCancelWithoutSpringSecurityIsWarnedAboutAtStartup(CapturedOutput output) {
		this.runner.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts")
			.run((context) -> assertThat(context).hasSingleBean(RequestContextsEndpoint.class));
		assertThat(output).doesNotContain("cancel operation is enabled");
		this.runner
			.withPropertyValues("management.endpoints.web.exposure.include=requestcontexts",
					// Upper case: the runner has no relaxed enum conversion, an application has.
					"management.endpoint.requestcontexts.access=UNRESTRICTED")
			.run((context) -> assertThat(context).hasSingleBean(RequestContextsEndpoint.class));
		assertThat(output).contains("The requestcontexts endpoint's cancel operation is enabled")
			.contains("Spring Security is not on the classpath");
	}

}
