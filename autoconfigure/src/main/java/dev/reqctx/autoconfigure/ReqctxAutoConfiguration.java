package dev.reqctx.autoconfigure;

import java.time.Duration;

import dev.reqctx.ContextDiagnostics;
import dev.reqctx.ContextRuntime;
import dev.reqctx.spi.CancellationHistory;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.ThreadContextBinder;
import dev.reqctx.spi.UnboundOperations;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
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
	 * The record of how recent cancels spread, and of their stragglers.
	 */
	@Bean
	CancellationHistory reqctxCancellationHistory(ContextRuntime runtime, ReqctxProperties properties,
			ObjectProvider<ContextObserver> observer) {
		ReqctxProperties.Cancel cancel = properties.getCancel();
		CancellationHistory history = new CancellationHistory(Math.max(1, cancel.getHistory()),
				cancel.getStragglerAfter(), () -> observer.getIfUnique(() -> ContextObserver.NONE));
		if (cancel.getHistory() > 0) {
			Contexts.setExtension(runtime, CancellationHistory.class, history);
		}
		return history;
	}

	/**
	 * The broken-chain detector: SQL and HTTP run with no context while requests are in flight.
	 */
	@Bean
	@ConditionalOnBooleanProperty(name = "reqctx.operations.detect-unbound", matchIfMissing = true)
	UnboundOperations reqctxUnboundOperations(ContextRuntime runtime, ObjectProvider<ContextObserver> observer) {
		UnboundOperations unbound = new UnboundOperations(runtime,
				() -> observer.getIfUnique(() -> ContextObserver.NONE));
		Contexts.setExtension(runtime, UnboundOperations.class, unbound);
		return unbound;
	}

	/**
	 * Cancels in-flight work with cause SHUTDOWN a margin before the shutdown grace period ends.
	 */
	@Bean
	@ConditionalOnBooleanProperty(name = "reqctx.shutdown.enabled", matchIfMissing = true)
	ShutdownDrain reqctxShutdownDrain(ContextRuntime runtime, ReqctxProperties properties, Environment environment) {
		boolean immediate = "immediate".equalsIgnoreCase(environment.getProperty("server.shutdown", "graceful"));
		Duration grace = Binder.get(environment)
			.bind("spring.lifecycle.timeout-per-shutdown-phase", Duration.class)
			.orElse(Duration.ofSeconds(30));
		return new ShutdownDrain(runtime, immediate ? null : grace, properties.getShutdown().getMargin());
	}

	/**
	 * Hands the application's observer (its meters) and thread binders (the logging MDC) to the
	 * runtime, for the units of work that no filter or interceptor reports: jobs, messages,
	 * hand-started work.
	 */
	@Bean
	SmartInitializingSingleton reqctxRuntimeObserver(ContextRuntime runtime, ObjectProvider<ContextObserver> observer,
			ObjectProvider<ThreadContextBinder> binders) {
		return () -> {
			ContextObserver unique = observer.getIfUnique();
			if (unique != null) {
				Contexts.setExtension(runtime, ContextObserver.class, unique);
			}
			Contexts.setExtension(runtime, ThreadContextBinder.class,
					ThreadContextBinder.of(binders.orderedStream().toList()));
		};
	}

}
