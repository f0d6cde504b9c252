package dev.reqctx.autoconfigure;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.reqctx.CancellableContext;
import dev.reqctx.DeadlineExceededException;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.StandardKeys;
import dev.reqctx.http.ContextPropagatingExchangeFilter;
import dev.reqctx.http.ContextPropagatingInterceptor;
import dev.reqctx.http.TestHttpServer.RecordedRequest;
import dev.reqctx.http.TestHttpServer;
import dev.reqctx.spi.ContextObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.api.Timeout;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.http.client.autoconfigure.HttpClientAutoConfiguration;
import org.springframework.boot.http.client.autoconfigure.imperative.ImperativeHttpClientAutoConfiguration;
import org.springframework.boot.http.client.autoconfigure.reactive.ReactiveHttpClientAutoConfiguration;
import org.springframework.boot.http.converter.autoconfigure.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.restclient.RestClientCustomizer;
import org.springframework.boot.restclient.RestTemplateBuilder;
import org.springframework.boot.restclient.RestTemplateCustomizer;
import org.springframework.boot.restclient.autoconfigure.RestClientAutoConfiguration;
import org.springframework.boot.restclient.autoconfigure.RestTemplateAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.webclient.WebClientCustomizer;
import org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.WebClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Tests for {@link ReqctxHttpClientAutoConfiguration}: the beans, and calls made through the
 * {@code RestClient.Builder} and {@code RestTemplateBuilder} that Spring Boot configures, on a
 * real socket.
 */
@Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
class ReqctxHttpClientAutoConfigurationTests {

	private static final Duration WAIT = Duration.ofSeconds(3);

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ReqctxAutoConfiguration.class, ReqctxHttpClientAutoConfiguration.class,
				SslAutoConfiguration.class, HttpClientAutoConfiguration.class,
				ImperativeHttpClientAutoConfiguration.class, HttpMessageConvertersAutoConfiguration.class,
				RestClientAutoConfiguration.class, RestTemplateAutoConfiguration.class,
				ReactiveHttpClientAutoConfiguration.class, WebClientAutoConfiguration.class))
		// A call that is not aborted fails on this instead of hanging the build.
		.withPropertyValues("spring.http.clients.read-timeout=5s");

	private TestHttpServer server;

	@AfterEach
	void stopServer() throws IOException {
		if (this.server != null) {
			this.server.close();
		}
	}

	private TestHttpServer answering() throws IOException {
		this.server = TestHttpServer.answering();
		return this.server;
	}

	private TestHttpServer silent() throws IOException {
		this.server = TestHttpServer.silent();
		return this.server;
	}

	@Test
	void registersInterceptorAndClientCustomizers() {
		this.runner.run((context) -> {
			assertThat(context).hasSingleBean(ContextPropagatingInterceptor.class);
			assertThat(context).hasBean("reqctxRestClientCustomizer").hasBean("reqctxRestTemplateCustomizer")
				.hasBean("reqctxHttpComponentsCustomizer");
		});
	}

	@Test
	void registersTheExchangeFilterAndAddsItToBootsWebClientBuilder() {
		this.runner.run((context) -> {
			assertThat(context).hasSingleBean(ContextPropagatingExchangeFilter.class).hasBean("reqctxWebClientCustomizer");
			List<ExchangeFilterFunction> filters = new CopyOnWriteArrayList<>();
			context.getBean(WebClient.Builder.class).filters(filters::addAll);
			assertThat(filters).containsExactly(context.getBean(ContextPropagatingExchangeFilter.class));
		});
	}

	@Test
	void withoutWebClientOnTheClasspathOnlyTheRestClientSideIsConfigured() {
		this.runner.withClassLoader(new FilteredClassLoader(WebClient.class)).run((context) -> {
			assertThat(context).hasSingleBean(ContextPropagatingInterceptor.class)
				.doesNotHaveBean(ContextPropagatingExchangeFilter.class)
				.doesNotHaveBean("reqctxWebClientCustomizer");
		});
	}

	@Test
	void webClientBuilderSendsHeadersNamedByTheSameProperties() throws IOException {
		answering();
		this.runner
			.withPropertyValues("reqctx.http.budget-header=X-Budget", "reqctx.http.request-id-header=X-Correlation",
					"reqctx.http.safety-margin=100ms", "reqctx.http.propagate-headers=X-Tenant",
					"reqctx.http.internal-hosts=127.0.0.1")
			.run((context) -> {
				WebClient client = context.getBean(WebClient.Builder.class).build();
				try (Scope scope = requestContext().attach()) {
					client.get().uri(this.server.uri("/webclient")).retrieve().toBodilessEntity().block(WAIT);
				}
				RecordedRequest request = this.server.takeRequest(WAIT);
				assertThat(Long.parseLong(request.header("X-Budget"))).isPositive().isLessThanOrEqualTo(1900);
				assertThat(request.headers()).doesNotContainKey("request-timeout-ms");
				assertThat(request.header("X-Correlation")).isEqualTo("req-1");
				assertThat(request.header("X-Tenant")).isEqualTo("acme");
			});
	}

	@Test
	void bootBuiltWebClientIsAbortedAtTheDeadline() throws IOException {
		silent();
		this.runner.run((context) -> {
			WebClient client = context.getBean(WebClient.Builder.class).build();
			long deadline;
			Throwable thrown;
			try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(200));
					Scope scope = ctx.attach()) {
				deadline = ctx.deadline().orElseThrow().nanoTime();
				thrown = catchThrowable(
						() -> client.get().uri(this.server.uri("/slow")).retrieve().toBodilessEntity().block(WAIT));
			}
			assertThat(thrown).isInstanceOf(DeadlineExceededException.class);
			assertThat(Duration.ofNanos(System.nanoTime() - deadline)).isLessThan(Duration.ofMillis(500));
			assertThat(Duration.ofNanos(this.server.awaitClientClose(WAIT) - deadline)).isLessThan(Duration.ofMillis(500));
		});
	}

	@Test
	void userExchangeFilterReplacesTheDefault() throws IOException {
		answering();
		this.runner.withUserConfiguration(CustomInterceptorConfiguration.class, CustomFilterConfiguration.class)
			.run((context) -> {
				assertThat(context).hasSingleBean(ContextPropagatingExchangeFilter.class);
				WebClient client = context.getBean(WebClient.Builder.class).build();
				try (Scope scope = requestContext().attach()) {
					client.get().uri(this.server.uri("/custom")).retrieve().toBodilessEntity().block(WAIT);
				}
				assertThat(this.server.takeRequest(WAIT).header("X-Custom-Budget")).isNotNull();
			});
	}

	@Test
	void httpDisabledLeavesClientsUntouched() throws IOException {
		answering();
		this.runner.withPropertyValues("reqctx.http.enabled=false").run((context) -> {
			assertThat(context).doesNotHaveBean(ContextPropagatingInterceptor.class)
				.doesNotHaveBean("reqctxRestClientCustomizer")
				.doesNotHaveBean(ContextPropagatingExchangeFilter.class);
			assertThat(context.getBeansOfType(WebClientCustomizer.class)).doesNotContainKey("reqctxWebClientCustomizer");
			call(context.getBean(RestClient.Builder.class).build(), "/off");
			assertThat(this.server.takeRequest(WAIT).headers()).doesNotContainKeys("request-timeout-ms", "x-request-id");
		});
	}

	@Test
	void reqctxDisabledLeavesClientsUntouched() {
		this.runner.withPropertyValues("reqctx.enabled=false").run((context) -> {
			assertThat(context).doesNotHaveBean(ContextPropagatingInterceptor.class);
			assertThat(context.getBeansOfType(RestClientCustomizer.class)).doesNotContainKey("reqctxRestClientCustomizer");
			assertThat(context.getBeansOfType(RestTemplateCustomizer.class))
				.doesNotContainKey("reqctxRestTemplateCustomizer");
		});
	}

	@Test
	void restClientBuilderSendsHeadersNamedByProperties() throws IOException {
		answering();
		this.runner
			.withPropertyValues("reqctx.http.budget-header=X-Budget", "reqctx.http.request-id-header=X-Correlation",
					"reqctx.http.safety-margin=100ms", "reqctx.http.propagate-headers=X-Tenant",
					"reqctx.http.internal-hosts=127.0.0.1")
			.run((context) -> {
				call(context.getBean(RestClient.Builder.class).build(), "/props");
				RecordedRequest request = this.server.takeRequest(WAIT);
				assertThat(Long.parseLong(request.header("X-Budget"))).isPositive().isLessThanOrEqualTo(1900);
				assertThat(request.headers()).doesNotContainKey("request-timeout-ms");
				assertThat(request.header("X-Correlation")).isEqualTo("req-1");
				assertThat(request.header("X-Tenant")).isEqualTo("acme");
			});
	}

	@Test
	void sendsTheBudgetButNoInboundValueByDefault() throws IOException {
		answering();
		this.runner.withPropertyValues("reqctx.http.propagate-headers=X-Tenant").run((context) -> {
			call(context.getBean(RestClient.Builder.class).build(), "/no-internal-host");
			RecordedRequest request = this.server.takeRequest(WAIT);
			assertThat(request.header("Request-Timeout-Ms")).isNotNull();
			assertThat(request.headers()).doesNotContainKeys("x-request-id", "x-tenant");
		});
	}

	@Test
	void propagatesNoInboundHeaderByDefault() throws IOException {
		answering();
		this.runner.withPropertyValues("reqctx.http.internal-hosts=127.0.0.1").run((context) -> {
			call(context.getBean(RestClient.Builder.class).build(), "/default");
			RecordedRequest request = this.server.takeRequest(WAIT);
			assertThat(request.header("Request-Timeout-Ms")).isNotNull();
			assertThat(request.header("X-Request-Id")).isEqualTo("req-1");
			assertThat(request.headers()).doesNotContainKey("x-tenant");
		});
	}

	@Test
	void restTemplateBuilderSendsHeaders() throws IOException {
		answering();
		this.runner.withPropertyValues("reqctx.http.internal-hosts=127.0.0.1").run((context) -> {
			RestTemplateBuilder builder = context.getBean(RestTemplateBuilder.class);
			try (Scope scope = requestContext().attach()) {
				builder.build().getForEntity(this.server.uri("/template"), String.class);
			}
			RecordedRequest request = this.server.takeRequest(WAIT);
			assertThat(request.header("Request-Timeout-Ms")).isNotNull();
			assertThat(request.header("X-Request-Id")).isEqualTo("req-1");
		});
	}

	@Test
	void userInterceptorReplacesTheDefault() throws IOException {
		answering();
		this.runner.withUserConfiguration(CustomInterceptorConfiguration.class).run((context) -> {
			assertThat(context).hasSingleBean(ContextPropagatingInterceptor.class);
			call(context.getBean(RestClient.Builder.class).build(), "/custom");
			assertThat(this.server.takeRequest(WAIT).header("X-Custom-Budget")).isNotNull();
		});
	}

	@Test
	void reportsCallsToTheContextObserver() throws IOException {
		answering();
		this.runner.withUserConfiguration(ObserverConfiguration.class).run((context) -> {
			call(context.getBean(RestClient.Builder.class).build(), "/observed");
			assertThat(context.getBean(RecordingObserver.class).started).singleElement()
				.satisfies((remaining) -> assertThat(remaining).isPositive());
		});
	}

	@Test
	void bootBuiltApacheClientIsAbortedAtTheDeadline() throws IOException {
		silent();
		this.runner.withPropertyValues("spring.http.clients.imperative.factory=http-components")
			.run((context) -> assertAbortedAtDeadline(context.getBean(RestClient.Builder.class).build()));
	}

	@Test
	void bootBuiltJdkClientIsAbortedAtTheDeadline() throws IOException {
		silent();
		this.runner.withPropertyValues("spring.http.clients.imperative.factory=jdk")
			.run((context) -> assertAbortedAtDeadline(context.getBean(RestClient.Builder.class).build()));
	}

	@Test
	void bootBuiltRestTemplateIsAbortedAtTheDeadline() throws IOException {
		silent();
		this.runner.withPropertyValues("spring.http.clients.imperative.factory=http-components").run((context) -> {
			RestTemplateBuilder builder = context.getBean(RestTemplateBuilder.class);
			long deadline;
			Throwable thrown;
			try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(200));
					Scope scope = ctx.attach()) {
				deadline = ctx.deadline().orElseThrow().nanoTime();
				thrown = catchThrowable(() -> builder.build().getForEntity(this.server.uri("/slow"), String.class));
			}
			assertThat(thrown).isInstanceOf(DeadlineExceededException.class);
			assertThat(Duration.ofNanos(System.nanoTime() - deadline)).isLessThan(Duration.ofMillis(500));
			assertThat(Duration.ofNanos(this.server.awaitClientClose(WAIT) - deadline)).isLessThan(Duration.ofMillis(500));
		});
	}

	private void assertAbortedAtDeadline(RestClient client) throws Exception {
		long deadline;
		Throwable thrown;
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(200));
				Scope scope = ctx.attach()) {
			deadline = ctx.deadline().orElseThrow().nanoTime();
			thrown = catchThrowable(() -> client.get().uri(this.server.uri("/slow")).retrieve().toBodilessEntity());
		}
		long returned = System.nanoTime();
		assertThat(thrown).isInstanceOf(DeadlineExceededException.class);
		assertThat(Duration.ofNanos(returned - deadline)).isLessThan(Duration.ofMillis(500));
		assertThat(Duration.ofNanos(this.server.awaitClientClose(WAIT) - deadline)).isLessThan(Duration.ofMillis(500));
	}

	private void call(RestClient client, String path) {
		try (Scope scope = requestContext().attach()) {
			client.get().uri(this.server.uri(path)).retrieve().toBodilessEntity();
		}
	}

	/** A request's context as the web filter would set it up, with a 2 s budget. */
	private static RequestContext requestContext() {
		CancellableContext request = RequestContext.root().withTimeout(Duration.ofSeconds(2));
		return request.withValue(StandardKeys.REQUEST_ID, "req-1")
			.withValue(StandardKeys.PROPAGATED_HEADERS, Map.of("X-Tenant", "acme"));
	}

	@Configuration(proxyBeanMethods = false)
	static class CustomInterceptorConfiguration {

		@Bean
		ContextPropagatingInterceptor customInterceptor() {
			return new ContextPropagatingInterceptor().withBudgetHeader("X-Custom-Budget");
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class CustomFilterConfiguration {

		@Bean
		ContextPropagatingExchangeFilter customFilter(ContextPropagatingInterceptor interceptor) {
			return new ContextPropagatingExchangeFilter(interceptor);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class ObserverConfiguration {

		@Bean
		RecordingObserver recordingObserver() {
			return new RecordingObserver();
		}

	}

	static final class RecordingObserver implements ContextObserver {

		final List<Long> started = new CopyOnWriteArrayList<>();

		@Override
		public void operationStarted(String operation, long remainingNanos) {
			this.started.add(remainingNanos);
		}

	}

}
