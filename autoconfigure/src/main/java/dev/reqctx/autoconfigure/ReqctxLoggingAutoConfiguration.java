package dev.reqctx.autoconfigure;

import dev.reqctx.logging.MdcContextBinder;
import dev.reqctx.spi.ThreadContextBinder;
import org.slf4j.MDC;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * {@link AutoConfiguration Auto-configuration} for log correlation: a {@link ThreadContextBinder}
 * that puts the request id and trace id (and the deadline, with {@code reqctx.logging.deadline})
 * in the SLF4J MDC wherever reqctx runs work in a context (request threads, async dispatches,
 * tasks).
 */
@AutoConfiguration(after = ReqctxAutoConfiguration.class)
@ConditionalOnClass(MDC.class)
@ConditionalOnBooleanProperty(name = "reqctx.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "reqctx.logging.enabled", matchIfMissing = true)
public final class ReqctxLoggingAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	MdcContextBinder reqctxMdcContextBinder(ReqctxProperties properties) {
		return new MdcContextBinder(properties.getLogging().isDeadline());
	}

}
