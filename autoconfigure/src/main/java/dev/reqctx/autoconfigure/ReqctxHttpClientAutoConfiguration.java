package dev.reqctx.autoconfigure;

import dev.reqctx.http.ContextCancellingExecHandler;
import dev.reqctx.http.ContextPropagatingExchangeFilter;
import dev.reqctx.http.ContextPropagatingInterceptor;
import dev.reqctx.http.ReqctxHttp;
import dev.reqctx.http.ReqctxWebClient;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.UnboundOperations;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.http.client.HttpComponentsClientHttpRequestFactoryBuilder;
import org.springframework.boot.http.client.autoconfigure.ClientHttpRequestFactoryBuilderCustomizer;
import org.springframework.boot.restclient.RestClientCustomizer;
import org.springframework.boot.restclient.RestTemplateCustomizer;
import org.springframework.boot.webclient.WebClientCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestTemplate;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * {@link AutoConfiguration Auto-configuration} for outbound HTTP: Boot's
 * {@code RestClient.Builder} and {@code RestTemplateBuilder} get a
 * {@link ContextPropagatingInterceptor}, the Apache HttpClient that Boot builds gets a
 * {@link ContextCancellingExecHandler}, and Boot's {@code WebClient.Builder} gets a
 * {@link ContextPropagatingExchangeFilter} with the interceptor's settings.
 */
@AutoConfiguration(after = ReqctxAutoConfiguration.class)
@ConditionalOnClass(RestClient.class)
@ConditionalOnBooleanProperty(name = "reqctx.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "reqctx.http.enabled", matchIfMissing = true)
public final class ReqctxHttpClientAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	ContextPropagatingInterceptor reqctxHttpInterceptor(ReqctxProperties properties,
			ObjectProvider<ContextObserver> observer, ObjectProvider<UnboundOperations> unbound) {
		ReqctxProperties.Http http = properties.getHttp();
		return ReqctxHttp.interceptor()
			.withBudgetHeader(http.getBudgetHeader())
			.withRequestIdHeader(http.getRequestIdHeader())
			.withSafetyMargin(http.getSafetyMargin())
			.withPropagatedHeaders(http.getPropagateHeaders())
			.withInternalHosts(http.getInternalHosts())
			.withObserver(observer.getIfUnique(() -> ContextObserver.NONE))
			.withUnboundOperations(unbound.getIfUnique(() -> UnboundOperations.NONE));
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(RestClientCustomizer.class)
	static class RestClientConfiguration {

		@Bean
		@ConditionalOnMissingBean(name = "reqctxRestClientCustomizer")
		RestClientCustomizer reqctxRestClientCustomizer(ContextPropagatingInterceptor interceptor) {
			return (builder) -> ReqctxHttp.configure(builder, interceptor);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ RestTemplate.class, RestTemplateCustomizer.class })
	static class RestTemplateConfiguration {

		@Bean
		@ConditionalOnMissingBean(name = "reqctxRestTemplateCustomizer")
		RestTemplateCustomizer reqctxRestTemplateCustomizer(ContextPropagatingInterceptor interceptor) {
			return (restTemplate) -> {
				if (restTemplate.getInterceptors().stream().noneMatch(ContextPropagatingInterceptor.class::isInstance)) {
					restTemplate.getInterceptors().add(interceptor);
				}
			};
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ WebClient.class, WebClientCustomizer.class })
	static class WebClientConfiguration {

		@Bean
		@ConditionalOnMissingBean
		ContextPropagatingExchangeFilter reqctxExchangeFilter(ContextPropagatingInterceptor interceptor) {
			return new ContextPropagatingExchangeFilter(interceptor);
		}

		@Bean
		@ConditionalOnMissingBean(name = "reqctxWebClientCustomizer")
		WebClientCustomizer reqctxWebClientCustomizer(ContextPropagatingExchangeFilter filter) {
			return (builder) -> ReqctxWebClient.configure(builder, filter);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ HttpClientBuilder.class, HttpComponentsClientHttpRequestFactoryBuilder.class,
			ClientHttpRequestFactoryBuilderCustomizer.class })
	static class HttpComponentsConfiguration {

		@Bean
		@ConditionalOnMissingBean(name = "reqctxHttpComponentsCustomizer")
		static HttpComponentsCustomizer reqctxHttpComponentsCustomizer() {
			return new HttpComponentsCustomizer();
		}

	}

	/** Adds the cancelling exec handler to every Apache HttpClient that Boot builds. */
	static final class HttpComponentsCustomizer
			implements ClientHttpRequestFactoryBuilderCustomizer<HttpComponentsClientHttpRequestFactoryBuilder> {

		@Override
		public HttpComponentsClientHttpRequestFactoryBuilder customize(HttpComponentsClientHttpRequestFactoryBuilder builder) {
			return builder.withHttpClientCustomizer(ContextCancellingExecHandler::register);
		}

	}

}
