package dev.reqctx.autoconfigure;

import dev.reqctx.ContextDiagnostics;

import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * {@link AutoConfiguration Auto-configuration} for the reqctx core: its properties and strict
 * mode. Every other reqctx auto-configuration runs after this one and is off when
 * {@code reqctx.enabled=false}.
 */
@AutoConfiguration
@ConditionalOnBooleanProperty(name = "reqctx.enabled", matchIfMissing = true)
@EnableConfigurationProperties(ReqctxProperties.class)
public final class ReqctxAutoConfiguration {

	@Bean
	static InitializingBean reqctxStrictMode(ReqctxProperties properties) {
		return () -> ContextDiagnostics.setStrict(properties.isStrict());
	}

}
