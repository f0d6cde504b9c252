package dev.reqctx.autoconfigure;

import dev.reqctx.ContextDiagnostics;
import dev.reqctx.ContextRuntime;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * {@link AutoConfiguration Auto-configuration} for the reqctx core: its properties and the
 * application's {@link ContextRuntime} (its live contexts, orphan history and strict mode). Every other reqctx auto-configuration runs after this one and is off when
 * {@code reqctx.enabled=false}.
 */
@AutoConfiguration
@ConditionalOnBooleanProperty(name = "reqctx.enabled", matchIfMissing = true)
@EnableConfigurationProperties(ReqctxProperties.class)
public final class ReqctxAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	ContextRuntime reqctxContextRuntime(ReqctxProperties properties, Environment environment) {
		int history = properties.getTask().getLeakHistory();
		if (history < 1) {
			throw new IllegalArgumentException("reqctx.task.leak-history must be at least 1, but was " + history);
		}
		return new ContextRuntime(environment.getProperty("spring.application.name", "application"), history,
				properties.isStrict());
	}

}
