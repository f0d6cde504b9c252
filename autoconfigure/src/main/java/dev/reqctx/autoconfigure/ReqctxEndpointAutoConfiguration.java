package dev.reqctx.autoconfigure;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import dev.reqctx.ContextRuntime;
import dev.reqctx.actuate.AuditEventOperatorCancelRecorder;
import dev.reqctx.actuate.OperatorCancelRecorder;
import dev.reqctx.actuate.RequestContextsEndpoint;
import dev.reqctx.actuate.RequestContextsEndpointWebExtension;
import dev.reqctx.actuate.RequestContextsLiveViewWebExtension;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.audit.AuditEventRepository;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurationPackages;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.util.ClassUtils;

/**
 * {@link AutoConfiguration Auto-configuration} for the {@code requestcontexts} actuator
 * endpoint.
 */
@AutoConfiguration(after = ReqctxAutoConfiguration.class)
@ConditionalOnClass(Endpoint.class)
@ConditionalOnBooleanProperty(name = "reqctx.enabled", matchIfMissing = true)
@ConditionalOnAvailableEndpoint(RequestContextsEndpoint.class)
@EnableConfigurationProperties(RequestContextsEndpointProperties.class)
public final class ReqctxEndpointAutoConfiguration {

	private static final System.Logger LOGGER = System.getLogger(ReqctxEndpointAutoConfiguration.class.getName());

	@Bean
	@ConditionalOnMissingBean
	RequestContextsEndpoint requestContextsEndpoint(ContextRuntime runtime,
			ObjectProvider<SanitizingFunction> sanitizingFunctions, RequestContextsEndpointProperties properties,
			ObjectProvider<OperatorCancelRecorder> recorders, Environment environment, BeanFactory beanFactory) {
		warnIfCancelIsOpen(environment);
		List<OperatorCancelRecorder> all = new ArrayList<>();
		all.add(OperatorCancelRecorder.LOG);
		all.addAll(recorders.orderedStream().toList());
		return new RequestContextsEndpoint(runtime, sanitizingFunctions.orderedStream()::iterator,
				properties.getShowValues(), properties.getDefaultLimit(), properties.getMaxLimit(), all,
				properties.getStack(), applicationPackages(beanFactory, properties));
	}

	/**
	 * The packages whose frames are the application's: those of the
	 * {@code @SpringBootApplication} class (its auto-configuration packages) and any the user
	 * adds. Empty when neither is known, and the endpoint then tells them by what they are not.
	 */
	private static Set<String> applicationPackages(BeanFactory beanFactory,
			RequestContextsEndpointProperties properties) {
		Set<String> packages = new LinkedHashSet<>();
		if (AutoConfigurationPackages.has(beanFactory)) {
			packages.addAll(AutoConfigurationPackages.get(beanFactory));
		}
		packages.addAll(properties.getApplicationPackages());
		return packages;
	}

	/**
	 * An operator cancel that anyone who reaches the port can call deserves a line at start-up:
	 * the user opted in to it, perhaps without noticing that nothing guards it.
	 */
	private static void warnIfCancelIsOpen(Environment environment) {
		String access = environment.getProperty("management.endpoint.requestcontexts.access",
				environment.getProperty("management.endpoints.access.default", "read-only"));
		if (access.replace('_', '-').equalsIgnoreCase("unrestricted") && !ClassUtils
			.isPresent("org.springframework.security.web.SecurityFilterChain", ReqctxEndpointAutoConfiguration.class.getClassLoader())) {
			LOGGER.log(System.Logger.Level.WARNING, "The requestcontexts endpoint's cancel operation is enabled "
					+ "(management.endpoint.requestcontexts.access=unrestricted) and Spring Security is not on the "
					+ "classpath: anyone who can reach the management port can cancel any request. Secure the endpoint "
					+ "(see the README's 'Operating it safely') or set the access to read-only.");
		}
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(AuditEventRepository.class)
	@ConditionalOnBean(AuditEventRepository.class)
	static class AuditConfiguration {

		@Bean
		@ConditionalOnMissingBean
		AuditEventOperatorCancelRecorder reqctxOperatorCancelAuditRecorder(ApplicationEventPublisher publisher) {
			return new AuditEventOperatorCancelRecorder(publisher);
		}

	}

	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnBean(RequestContextsEndpoint.class)
	@ConditionalOnBooleanProperty(name = "management.endpoint.requestcontexts.html.enabled", havingValue = false,
			matchIfMissing = true)
	RequestContextsEndpointWebExtension requestContextsEndpointWebExtension(RequestContextsEndpoint endpoint,
			RequestContextsEndpointProperties properties) {
		return new RequestContextsEndpointWebExtension(endpoint, properties.getShowValues(), properties.getRoles());
	}

	/**
	 * The extension with the live view: a separate class rather than a flag, because Boot maps
	 * every operation it finds, and when the page is off a browser must get what it got before
	 * (JSON, or 406 for an {@code Accept} without JSON).
	 */
	@Bean
	@ConditionalOnMissingBean(RequestContextsEndpointWebExtension.class)
	@ConditionalOnBean(RequestContextsEndpoint.class)
	@ConditionalOnBooleanProperty("management.endpoint.requestcontexts.html.enabled")
	RequestContextsLiveViewWebExtension requestContextsLiveViewWebExtension(RequestContextsEndpoint endpoint,
			RequestContextsEndpointProperties properties) {
		return new RequestContextsLiveViewWebExtension(endpoint, properties.getShowValues(), properties.getRoles());
	}

}
