package dev.reqctx.http;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import com.sun.net.httpserver.HttpServer;
import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.DeadlineExceededException;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import org.springframework.web.reactive.function.client.WebClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * {@link ContextPropagatingExchangeFilter} on a {@code WebClient} built by hand, over real
 * sockets, outside Spring: what the context-aware parts do that the MVC tests do not reach.
 */
@Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
class ContextPropagatingExchangeFilterTests {

	private static final Duration WAIT = Duration.ofSeconds(5);

	private final WebClient client = ReqctxWebClient.configure(WebClient.builder()).build();

	private TestHttpServer server;

	private HttpServer gatewayTimeout;

	@AfterEach
	void stop() throws IOException {
		if (this.server != null) {
			this.server.close();
		}
		if (this.gatewayTimeout != null) {
			this.gatewayTimeout.stop(0);
		}
	}

	@Test
	void withAutomaticContextPropagationAChainThatHopsThreadsRunsUnderTheSubscribersContext() throws Exception {
		this.server = TestHttpServer.answering();
		Hooks.enableAutomaticContextPropagation();
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(2));
				Scope scope = ctx.attach()) {
			// Subscribed on a bounded-elastic thread, which has no context of its own.
			String body = Mono.just("hop")
				.publishOn(Schedulers.boundedElastic())
				.flatMap((hop) -> this.client.get().uri(this.server.uri("/auto")).retrieve().bodyToMono(String.class))
				.block(WAIT);
			assertThat(body).isEqualTo("ok");
		}
		finally {
			Hooks.disableAutomaticContextPropagation();
		}
		assertThat(Long.parseLong(this.server.takeRequest(WAIT).header("Request-Timeout-Ms"))).isBetween(1L, 1990L);
	}

	@Test
	void anOperatorCancelFailsTheExchangeWithTheContextsExceptionCausedByTheAbort() throws Exception {
		this.server = TestHttpServer.silent();
		Throwable thrown;
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(20))) {
			Mono<String> call = this.client.get().uri(this.server.uri("/never")).retrieve().bodyToMono(String.class);
			Mono<String> subscribed;
			try (Scope scope = ctx.attach()) {
				// Assembled and subscribed under the context; the filter runs at the subscription.
				subscribed = call.cache();
				subscribed.subscribe((body) -> { }, (ex) -> { });
			}
			this.server.takeRequest(WAIT);
			ctx.cancel();
			thrown = catchThrowable(() -> subscribed.block(WAIT));
		}
		assertThat(thrown).isExactlyInstanceOf(ContextCancelledException.class);
		assertThat(((ContextCancelledException) thrown).getCancellationCause()).isEqualTo(CancellationCause.CANCELLED);
		assertThat(thrown.getCause()).isInstanceOf(java.util.concurrent.CancellationException.class)
			.hasMessageStartingWith("GET " + this.server.uri("/never"));
		this.server.awaitClientClose(WAIT);
	}

	@Test
	void aDownstream504WithinTheSafetyMarginOfTheDeadlineIsTheCallersOwnDeadline() throws Exception {
		// Nothing opens it: waiting on it is the downstream working through its budget.
		CountDownLatch working = new CountDownLatch(1);
		this.gatewayTimeout = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
		this.gatewayTimeout.createContext("/", (exchange) -> {
			// A reqctx downstream answers 504 when the budget it was sent runs out; this one 45 ms
			// earlier, so that the 504 arrives before the caller's own deadline whatever the
			// transit up to 55 ms, and no more than the 10 ms margin plus the 50 ms of timer
			// slack the filter allows before it.
			String header = exchange.getRequestHeaders().getFirst("Request-Timeout-Ms");
			if (header == null) {
				exchange.sendResponseHeaders(204, -1);
				exchange.close();
				return;
			}
			long budget = Long.parseLong(header);
			try {
				working.await(Math.max(0, budget - 45), TimeUnit.MILLISECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			exchange.sendResponseHeaders(504, -1);
			exchange.close();
		});
		this.gatewayTimeout.start();
		String url = "http://127.0.0.1:" + this.gatewayTimeout.getAddress().getPort() + "/chain";
		// One call without a context first, so that starting Reactor Netty and connecting do not
		// eat the measured budget: the call under test reuses the connection.
		this.client.get().uri(url).retrieve().toBodilessEntity().block(WAIT);
		Throwable thrown;
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(300));
				Scope scope = ctx.attach()) {
			thrown = catchThrowable(() -> this.client.get().uri(url).retrieve().bodyToMono(String.class).block(WAIT));
		}
		assertThat(thrown).as("a 504 from the budget we sent is our deadline, so each hop answers 504")
			.isInstanceOf(DeadlineExceededException.class);
		assertThat(thrown.getCause()).hasMessageContaining("answered 504 Gateway Timeout");
	}

}
