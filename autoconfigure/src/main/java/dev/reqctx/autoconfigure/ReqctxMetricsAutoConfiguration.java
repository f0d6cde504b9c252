package dev.reqctx.autoconfigure;

import dev.reqctx.ContextRuntime;
import dev.reqctx.actuate.ContextMeters;
import dev.reqctx.spi.ContextObserver;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * {@link AutoConfiguration Auto-configuration} for reqctx's Micrometer meters.
 */
@AutoConfiguration(after = ReqctxAutoConfiguration.class,
		afterName = { "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration" })
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBooleanProperty(name = "reqctx.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "reqctx.metrics.enabled", matchIfMissing = true)
@ConditionalOnBean(MeterRegistry.class)
public final class ReqctxMetricsAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean(ContextObserver.class)
	ContextMeters reqctxContextMeters(MeterRegistry registry, ContextRuntime runtime) {
		return new ContextMeters(registry, runtime);
	}

}
