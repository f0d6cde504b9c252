package dev.reqctx.autoconfigure;

import dev.reqctx.ContextRuntime;
import dev.reqctx.grpc.ContextClientInterceptor;
import dev.reqctx.grpc.ContextServerInterceptor;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.ThreadContextBinder;
import dev.reqctx.spi.UnboundOperations;
import io.grpc.ClientInterceptor;
import io.grpc.ServerInterceptor;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.grpc.client.GlobalClientInterceptor;
import org.springframework.grpc.server.GlobalServerInterceptor;

/**
 * {@link AutoConfiguration Auto-configuration} for gRPC: a {@link ContextServerInterceptor}
 * that gives each inbound call a context, and a {@link ContextClientInterceptor} that bounds
 * each outbound call by the caller's. With Spring gRPC on the classpath they are its global
 * interceptors (every service of its server, every channel of its channel factory); with
 * {@code grpc-api} alone they are beans to register on a server or channel built by hand.
 */
@AutoConfiguration(after = ReqctxAutoConfiguration.class)
@ConditionalOnClass({ ServerInterceptor.class, ClientInterceptor.class })
@ConditionalOnBooleanProperty(name = "reqctx.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "reqctx.grpc.enabled", matchIfMissing = true)
public final class ReqctxGrpcAutoConfiguration {

	/**
	 * Where the server interceptor sits among Spring gRPC's global ones (lowest first, the first
	 * outermost): just inside its observation interceptor (order 0), so the trace is open when
	 * the call's context starts, and outside the others, so they run in the context.
	 */
	static final int SERVER_INTERCEPTOR_ORDER = 10;

	private static ContextServerInterceptor serverInterceptor(ContextRuntime runtime, ReqctxProperties properties,
			ObjectProvider<ContextObserver> observer, ObjectProvider<ThreadContextBinder> binders) {
		return new ContextServerInterceptor(runtime)
			.withDefaultTimeout(properties.getGrpc().getServer().getDefaultTimeout())
			.withObserver(observer.getIfAvailable(() -> ContextObserver.NONE))
			.withThreadContextBinder(ThreadContextBinder.of(binders.orderedStream().toList()));
	}

	private static ContextClientInterceptor clientInterceptor(ObjectProvider<ContextObserver> observer,
			ObjectProvider<UnboundOperations> unbound) {
		return new ContextClientInterceptor().withObserver(observer.getIfUnique(() -> ContextObserver.NONE))
			.withUnboundOperations(unbound.getIfUnique(() -> UnboundOperations.NONE));
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ GlobalServerInterceptor.class, GlobalClientInterceptor.class })
	static class SpringGrpcConfiguration {

		@Bean
		@GlobalServerInterceptor
		@Order(SERVER_INTERCEPTOR_ORDER)
		@ConditionalOnMissingBean
		ContextServerInterceptor reqctxGrpcServerInterceptor(ContextRuntime runtime, ReqctxProperties properties,
				ObjectProvider<ContextObserver> observer, ObjectProvider<ThreadContextBinder> binders) {
			return serverInterceptor(runtime, properties, observer, binders);
		}

		@Bean
		@GlobalClientInterceptor
		@ConditionalOnMissingBean
		ContextClientInterceptor reqctxGrpcClientInterceptor(ObjectProvider<ContextObserver> observer,
				ObjectProvider<UnboundOperations> unbound) {
			return clientInterceptor(observer, unbound);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnMissingClass("org.springframework.grpc.server.GlobalServerInterceptor")
	static class PlainGrpcConfiguration {

		@Bean
		@ConditionalOnMissingBean
		ContextServerInterceptor reqctxGrpcServerInterceptor(ContextRuntime runtime, ReqctxProperties properties,
				ObjectProvider<ContextObserver> observer, ObjectProvider<ThreadContextBinder> binders) {
			return serverInterceptor(runtime, properties, observer, binders);
		}

		@Bean
		@ConditionalOnMissingBean
		ContextClientInterceptor reqctxGrpcClientInterceptor(ObjectProvider<ContextObserver> observer,
				ObjectProvider<UnboundOperations> unbound) {
			return clientInterceptor(observer, unbound);
		}

	}

}
