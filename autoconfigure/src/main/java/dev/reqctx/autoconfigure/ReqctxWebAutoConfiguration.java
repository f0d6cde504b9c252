package dev.reqctx.autoconfigure;

import java.util.List;

import dev.reqctx.ContextRuntime;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.ThreadContextBinder;
import dev.reqctx.web.ClientGoneDetector;
import dev.reqctx.web.ContextCallableInterceptor;
import dev.reqctx.web.ContextCancelledExceptionResolver;
import dev.reqctx.web.PropagatedHeaders;
import dev.reqctx.web.RequestContextCustomizer;
import dev.reqctx.web.RequestContextFilter;
import dev.reqctx.web.RequestContextFilterSettings;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication.Type;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.servlet.DispatcherServlet;
import org.springframework.web.servlet.config.annotation.AsyncSupportConfigurer;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * {@link AutoConfiguration Auto-configuration} for inbound servlet requests: the filter that
 * gives each request its context, and the resolver that answers cancelled requests with a
 * problem.
 */
@AutoConfiguration(after = ReqctxAutoConfiguration.class)
@ConditionalOnWebApplication(type = Type.SERVLET)
@ConditionalOnClass({ Filter.class, FilterRegistrationBean.class })
@ConditionalOnBooleanProperty(name = "reqctx.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "reqctx.web.enabled", matchIfMissing = true)
public final class ReqctxWebAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean(name = "reqctxFilterRegistration")
	FilterRegistrationBean<RequestContextFilter> reqctxFilterRegistration(ReqctxProperties properties,
			ContextRuntime runtime, ObjectProvider<ContextObserver> observer, ObjectProvider<RequestContextCustomizer> customizers,
			ObjectProvider<ThreadContextBinder> binders) {
		ReqctxProperties.Web web = properties.getWeb();
		RequestContextFilterSettings settings = new RequestContextFilterSettings(web.getDefaultTimeout(),
				web.getMaxTimeout(), web.getPathTimeouts(), web.getBudgetHeader(), web.isAcceptGrpcTimeout(),
				web.isAcceptEnvoyTimeout(), web.isRejectInvalidBudget(), web.getRequestIdHeader(), web.isProblemResponses());
		List<String> propagated = List.copyOf(properties.getHttp().getPropagateHeaders());
		RequestContextFilter filter = new RequestContextFilter(runtime, settings,
				observer.getIfAvailable(() -> ContextObserver.NONE),
				propagated.isEmpty() ? null : (request) -> PropagatedHeaders.capture(propagated, request::getHeader),
				customizers.orderedStream().toList(), ThreadContextBinder.of(binders.orderedStream().toList()));
		FilterRegistrationBean<RequestContextFilter> registration = new FilterRegistrationBean<>(filter);
		registration.setName("reqctxFilter");
		registration.setOrder(web.getFilterOrder());
		registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC);
		return registration;
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(DispatcherServlet.class)
	static class MvcAsyncConfiguration {

		@Bean
		WebMvcConfigurer reqctxMvcAsyncConfigurer(ObjectProvider<ThreadContextBinder> binders) {
			ContextCallableInterceptor interceptor = new ContextCallableInterceptor(
					ThreadContextBinder.of(binders.orderedStream().toList()));
			return new WebMvcConfigurer() {

				@Override
				public void configureAsyncSupport(AsyncSupportConfigurer configurer) {
					configurer.registerCallableInterceptors(interceptor);
				}

			};
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "org.apache.catalina.connector.RequestFacade")
	@ConditionalOnBooleanProperty(name = "reqctx.web.detect-client-gone", matchIfMissing = true)
	static class ClientGoneConfiguration {

		@Bean
		@ConditionalOnMissingBean
		ClientGoneDetector reqctxClientGoneDetector(ContextRuntime runtime) {
			return new ClientGoneDetector(runtime, ClientGoneDetector.DEFAULT_INTERVAL);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(DispatcherServlet.class)
	static class ProblemResponseConfiguration {

		@Bean
		@ConditionalOnMissingBean
		ContextCancelledExceptionResolver contextCancelledExceptionResolver(ReqctxProperties properties) {
			// Before @ExceptionHandler methods (order 0), so a generic handler cannot turn a
			// cancelled request into a 500; it hands the cancellation to the application's own
			// handlers for reqctx's exceptions and for Spring's error responses.
			return new ContextCancelledExceptionResolver(Ordered.HIGHEST_PRECEDENCE + 10,
					properties.getWeb().isProblemResponses());
		}

	}
}
