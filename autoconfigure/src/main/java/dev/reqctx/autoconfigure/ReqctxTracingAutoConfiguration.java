package dev.reqctx.autoconfigure;

import dev.reqctx.tracing.TracingRequestContextCustomizer;
import io.micrometer.tracing.Tracer;
import jakarta.servlet.http.HttpServletRequest;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication.Type;
import org.springframework.context.annotation.Bean;

/**
 * {@link AutoConfiguration Auto-configuration} for Micrometer Tracing: each request's context
 * records the trace id of the request's span, and the span gets the budget and the cause of a
 * cancellation. Only loaded when {@code micrometer-tracing} is on the classpath and a
 * {@link Tracer} bean exists (Brave, OpenTelemetry, or a test tracer).
 */
@AutoConfiguration(after = ReqctxAutoConfiguration.class,
		afterName = { "org.springframework.boot.micrometer.tracing.autoconfigure.MicrometerTracingAutoConfiguration",
				// Runs after the Brave and OpenTelemetry tracer configurations, so after them too.
				"org.springframework.boot.micrometer.tracing.autoconfigure.NoopTracerAutoConfiguration" })
@ConditionalOnWebApplication(type = Type.SERVLET)
@ConditionalOnClass({ Tracer.class, HttpServletRequest.class })
@ConditionalOnBooleanProperty(name = "reqctx.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "reqctx.web.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "reqctx.tracing.enabled", matchIfMissing = true)
@ConditionalOnBean(Tracer.class)
public final class ReqctxTracingAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	TracingRequestContextCustomizer reqctxTracingCustomizer(Tracer tracer) {
		return new TracingRequestContextCustomizer(tracer);
	}

}
