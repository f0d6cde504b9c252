package dev.reqctx.autoconfigure;

import dev.reqctx.ContextRuntime;
import dev.reqctx.actuate.RequestContextsEndpoint;
import dev.reqctx.actuate.RequestContextsEndpointWebExtension;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

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

	@Bean
	@ConditionalOnMissingBean
	RequestContextsEndpoint requestContextsEndpoint(ContextRuntime runtime,
			ObjectProvider<SanitizingFunction> sanitizingFunctions, RequestContextsEndpointProperties properties) {
		return new RequestContextsEndpoint(runtime, sanitizingFunctions.orderedStream()::iterator, properties.getShowValues(),
				properties.getDefaultLimit(), properties.getMaxLimit());
	}

	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnBean(RequestContextsEndpoint.class)
	RequestContextsEndpointWebExtension requestContextsEndpointWebExtension(RequestContextsEndpoint endpoint,
			RequestContextsEndpointProperties properties) {
		return new RequestContextsEndpointWebExtension(endpoint, properties.getShowValues(), properties.getRoles());
	}

}
