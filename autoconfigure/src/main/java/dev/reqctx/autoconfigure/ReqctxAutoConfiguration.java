package dev.reqctx.autoconfigure;

import dev.reqctx.ContextDiagnostics;
import dev.reqctx.ContextRuntime;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.Contexts;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * {@link AutoConfiguration Auto-configuration} for the reqctx core: its properties and the
 * application's {@link ContextRuntime} (its live contexts, orphan history and strict mode), and the
 * check of every {@code reqctx.*} value. Every other reqctx auto-configuration runs after this
 * one and is off when {@code reqctx.enabled=false}.
 */
@AutoConfiguration
@ConditionalOnBooleanProperty(name = "reqctx.enabled", matchIfMissing = true)
@EnableConfigurationProperties(ReqctxProperties.class)
public final class ReqctxAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	ContextRuntime reqctxContextRuntime(ReqctxProperties properties, Environment environment) {
		return new ContextRuntime(environment.getProperty("spring.application.name", "application"),
				properties.getTask().getLeakHistory(),
				properties.isStrict());
	}

	/**
	 * Hands the application's observer (its meters) to the runtime, for the units of work that
	 * no filter or interceptor reports: jobs, messages, hand-started work.
	 */
	@Bean
	SmartInitializingSingleton reqctxRuntimeObserver(ContextRuntime runtime, ObjectProvider<ContextObserver> observer) {
		return () -> {
			ContextObserver unique = observer.getIfUnique();
			if (unique != null) {
				Contexts.setExtension(runtime, ContextObserver.class, unique);
			}
		};
	}

}
