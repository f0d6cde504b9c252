package dev.reqctx.http;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.DeadlineExceededException;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.StandardKeys;
import dev.reqctx.http.TestHttpServer.RecordedRequest;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.ContextTree;
import dev.reqctx.spi.Contexts;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.util.Timeout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.HttpComponentsClientHttpRequestFactory;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.mock.http.client.MockClientHttpRequest;
import org.springframework.mock.http.client.MockClientHttpResponse;
import org.springframework.web.client.RestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Tests for {@link ContextPropagatingInterceptor} against a real socket, with the JDK
 * {@code HttpClient} and with Apache HttpClient 5.
 */
@org.junit.jupiter.api.Timeout(value = 20, threadMode = ThreadMode.SEPARATE_THREAD)
class ContextPropagatingInterceptorTests {

	/** Far longer than any test waits: a call that is not aborted fails on this instead of hanging. */
	private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(5);

	private static final Duration WAIT = Duration.ofSeconds(3);

	/** The host of every {@link TestHttpServer} URI. */
	private static final List<String> LOOPBACK = List.of("127.0.0.1");

	private final List<AutoCloseable> closeables = new CopyOnWriteArrayList<>();

	@AfterEach
	void closeAll() throws Exception {
		for (AutoCloseable closeable : this.closeables) {
			closeable.close();
		}
	}

	static Stream<Arguments> factories() {
		return Stream.of(Arguments.of("jdk"), Arguments.of("httpcomponents"));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("factories")
	void deadlineAbortsExchangeAndClosesConnection(String factory) throws Exception {
		TestHttpServer server = silentServer();
		RecordingObserver observer = new RecordingObserver();
		RestClient client = client(factory, ReqctxHttp.interceptor().withObserver(observer));
		Throwable thrown;
		long deadline;
		long returned;
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofMillis(200));
				Scope scope = ctx.attach()) {
			deadline = ctx.deadline().orElseThrow().nanoTime();
			thrown = catchThrowable(() -> client.get().uri(server.uri("/slow?secret=1")).retrieve().toBodilessEntity());
			returned = System.nanoTime();
		}
		long closed = server.awaitClientClose(WAIT);
		assertThat(thrown).isInstanceOf(DeadlineExceededException.class).hasCauseInstanceOf(Exception.class);
		assertThat(Thread.currentThread().isInterrupted()).as("interrupt leaked to the caller").isFalse();
		assertThat(Duration.ofNanos(returned - deadline)).isLessThan(Duration.ofMillis(500));
		assertThat(Duration.ofNanos(closed - deadline)).isLessThan(Duration.ofMillis(500));
		assertThat(observer.cancelled).singleElement()
			.satisfies((event) -> assertThat(event.cause()).isEqualTo(CancellationCause.DEADLINE_EXCEEDED));
		assertThat(observer.started).singleElement()
			.satisfies((remaining) -> assertThat(remaining).isBetween(1L, TimeUnit.MILLISECONDS.toNanos(200)));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("factories")
	void cancelFromAnotherThreadAbortsExchangeWithCancelled(String factory) throws Exception {
		TestHttpServer server = silentServer();
		RestClient client = client(factory, ReqctxHttp.interceptor());
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(10));
				Scope scope = ctx.attach()) {
			CompletableFuture<Long> cancelled = CompletableFuture.supplyAsync(() -> {
				try {
					server.takeRequest(WAIT);
				}
				catch (InterruptedException ex) {
					throw new IllegalStateException(ex);
				}
				long at = System.nanoTime();
				ctx.cancel();
				return at;
			});
			Throwable thrown = catchThrowable(() -> client.get().uri(server.uri("/slow")).retrieve().toBodilessEntity());
			long returned = System.nanoTime();
			long closed = server.awaitClientClose(WAIT);
			assertThat(thrown).isExactlyInstanceOf(ContextCancelledException.class);
			assertThat(((ContextCancelledException) thrown).getCancellationCause()).isEqualTo(CancellationCause.CANCELLED);
			assertThat(thrown.getCause()).isNotNull();
			assertThat(Duration.ofNanos(returned - cancelled.get())).isLessThan(Duration.ofMillis(500));
			assertThat(Duration.ofNanos(closed - cancelled.get())).isLessThan(Duration.ofMillis(500));
			assertThat(Thread.currentThread().isInterrupted()).isFalse();
		}
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("factories")
	void cancelledContextNeverOpensConnection(String factory) throws Exception {
		TestHttpServer server = answeringServer();
		RestClient client = client(factory, ReqctxHttp.interceptor());
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(10))) {
			ctx.cancel();
			try (Scope scope = ctx.attach()) {
				Throwable thrown = catchThrowable(() -> client.get().uri(server.uri("/never")).retrieve().toBodilessEntity());
				assertThat(thrown).isInstanceOf(ContextCancelledException.class);
				assertThat(((ContextCancelledException) thrown).getCancellationCause())
					.isEqualTo(CancellationCause.CANCELLED);
			}
		}
		// A connection opened by the cancelled call would be accepted before this one.
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(10));
				Scope scope = ctx.attach()) {
			client.get().uri(server.uri("/after")).retrieve().toBodilessEntity();
		}
		assertThat(server.takeRequest(WAIT).requestLine()).startsWith("GET /after ");
		assertThat(server.acceptedConnections()).isOne();
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("factories")
	void sendsBudgetAndRequestIdHeaders(String factory) throws Exception {
		TestHttpServer server = answeringServer();
		RestClient client = client(factory,
				ReqctxHttp.interceptor().withSafetyMargin(Duration.ofMillis(50)).withInternalHosts(LOOPBACK));
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(2))) {
			long remainingBefore = ctx.remainingNanos();
			try (Scope scope = ctx.withValue(StandardKeys.REQUEST_ID, "req-42").attach()) {
				client.get().uri(server.uri("/echo")).retrieve().toBodilessEntity();
			}
			RecordedRequest request = server.takeRequest(WAIT);
			long budget = Long.parseLong(request.header("Request-Timeout-Ms"));
			assertThat(budget).isPositive()
				.isLessThanOrEqualTo(TimeUnit.NANOSECONDS.toMillis(remainingBefore) - 50)
				.isGreaterThan(1000);
			assertThat(request.header("X-Request-Id")).isEqualTo("req-42");
		}
	}

	@Test
	void budgetNeverGoesNegative() throws Exception {
		TestHttpServer server = answeringServer();
		RestClient client = client("jdk", ReqctxHttp.interceptor().withSafetyMargin(Duration.ofSeconds(5)));
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(2));
				Scope scope = ctx.attach()) {
			client.get().uri(server.uri("/echo")).retrieve().toBodilessEntity();
		}
		assertThat(server.takeRequest(WAIT).header("Request-Timeout-Ms")).isEqualTo("0");
	}

	@Test
	void callerMayAskDownstreamForLessButNeverMore() throws Exception {
		TestHttpServer server = answeringServer();
		RestClient client = client("jdk", ReqctxHttp.interceptor());
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(2));
				Scope scope = ctx.attach()) {
			client.get().uri(server.uri("/less")).header("Request-Timeout-Ms", "300").retrieve().toBodilessEntity();
			client.get().uri(server.uri("/more")).header("Request-Timeout-Ms", "60000").retrieve().toBodilessEntity();
		}
		assertThat(server.takeRequest(WAIT).header("Request-Timeout-Ms")).isEqualTo("300");
		assertThat(Long.parseLong(server.takeRequest(WAIT).header("Request-Timeout-Ms"))).isLessThan(2000);
	}

	@Test
	void detachedContextSendsNoBudgetButKeepsRequestId() throws Exception {
		TestHttpServer server = answeringServer();
		RestClient client = client("jdk", ReqctxHttp.interceptor().withInternalHosts(LOOPBACK));
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(2));
				Scope scope = ctx.withValue(StandardKeys.REQUEST_ID, "req-7").detached().attach()) {
			client.get().uri(server.uri("/audit")).retrieve().toBodilessEntity();
		}
		RecordedRequest request = server.takeRequest(WAIT);
		assertThat(request.headers()).doesNotContainKey("request-timeout-ms");
		assertThat(request.header("X-Request-Id")).isEqualTo("req-7");
	}

	@Test
	void propagatesConfiguredInboundHeadersOnly() throws Exception {
		TestHttpServer server = answeringServer();
		RestClient propagating = client("jdk",
				ReqctxHttp.interceptor().withPropagatedHeaders(List.of("X-Tenant")).withInternalHosts(LOOPBACK));
		RestClient plain = client("jdk", ReqctxHttp.interceptor().withInternalHosts(LOOPBACK));
		RequestContext inbound = RequestContext.root()
			.withValue(StandardKeys.PROPAGATED_HEADERS, Map.of("X-Tenant", "acme", "X-Other", "no"));
		try (Scope scope = inbound.attach()) {
			propagating.get().uri(server.uri("/on")).retrieve().toBodilessEntity();
			plain.get().uri(server.uri("/off")).retrieve().toBodilessEntity();
		}
		RecordedRequest on = server.takeRequest(WAIT);
		RecordedRequest off = server.takeRequest(WAIT);
		assertThat(on.header("X-Tenant")).isEqualTo("acme");
		assertThat(on.headers()).doesNotContainKey("x-other");
		assertThat(off.headers()).doesNotContainKey("x-tenant");
	}

	@Test
	void exchangeInFlightShowsInTheTreeWithoutQuery() throws Exception {
		TestHttpServer server = silentServer();
		RestClient client = client("jdk", ReqctxHttp.interceptor());
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(10))) {
			CompletableFuture<List<ContextTree.OperationView>> seen = CompletableFuture.supplyAsync(() -> {
				try {
					server.takeRequest(WAIT);
				}
				catch (InterruptedException ex) {
					throw new IllegalStateException(ex);
				}
				List<ContextTree.OperationView> operations = Contexts.tree(ctx).operations();
				ctx.cancel();
				return operations;
			});
			try (Scope scope = ctx.attach()) {
				catchThrowable(() -> client.get().uri(server.uri("/orders/7?token=secret")).retrieve().toBodilessEntity());
			}
			assertThat(seen.get()).singleElement().satisfies((op) -> {
				assertThat(op.kind()).isEqualTo("http");
				assertThat(op.description()).isEqualTo("GET http://127.0.0.1:" + server.port() + "/orders/7");
			});
			assertThat(Contexts.tree(ctx).operations()).isEmpty();
		}
	}

	@Test
	void requestIdAndPropagatedHeadersGoToInternalHostsOnlyAndTheBudgetToEveryHost() throws Exception {
		TestHttpServer internal = answeringServer();
		TestHttpServer other = answeringServer();
		// Both listen on 127.0.0.1: the port tells them apart.
		RestClient client = client("jdk", ReqctxHttp.interceptor()
			.withPropagatedHeaders(List.of("X-Tenant"))
			.withInternalHosts(List.of("127.0.0.1:" + internal.port())));
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(2));
				Scope scope = inbound(ctx, "req-9").attach()) {
			client.get().uri(internal.uri("/internal")).retrieve().toBodilessEntity();
			client.get().uri(other.uri("/other")).retrieve().toBodilessEntity();
		}
		RecordedRequest toInternal = internal.takeRequest(WAIT);
		assertThat(toInternal.header("X-Request-Id")).isEqualTo("req-9");
		assertThat(toInternal.header("X-Tenant")).isEqualTo("acme");
		assertThat(Long.parseLong(toInternal.header("Request-Timeout-Ms"))).isBetween(1L, 2000L);
		RecordedRequest toOther = other.takeRequest(WAIT);
		assertThat(Long.parseLong(toOther.header("Request-Timeout-Ms"))).isBetween(1L, 2000L);
		assertThat(toOther.headers()).doesNotContainKeys("x-request-id", "x-tenant");
	}

	@Test
	void byDefaultNoHostGetsTheRequestIdOrPropagatedHeadersButEveryHostGetsTheBudget() throws Exception {
		TestHttpServer server = answeringServer();
		RestClient client = client("jdk", ReqctxHttp.interceptor().withPropagatedHeaders(List.of("X-Tenant")));
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(2));
				Scope scope = inbound(ctx, "req-10").attach()) {
			client.get().uri(server.uri("/default")).retrieve().toBodilessEntity();
		}
		RecordedRequest request = server.takeRequest(WAIT);
		assertThat(request.header("Request-Timeout-Ms")).isNotNull();
		assertThat(request.headers()).doesNotContainKeys("x-request-id", "x-tenant");
	}

	@Test
	void aStarDeclaresEveryHostInternal() throws Exception {
		TestHttpServer server = answeringServer();
		RestClient client = client("jdk",
				ReqctxHttp.interceptor().withPropagatedHeaders(List.of("X-Tenant")).withInternalHosts(List.of("*")));
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(2));
				Scope scope = inbound(ctx, "req-11").attach()) {
			client.get().uri(server.uri("/star")).retrieve().toBodilessEntity();
		}
		RecordedRequest request = server.takeRequest(WAIT);
		assertThat(request.header("X-Request-Id")).isEqualTo("req-11");
		assertThat(request.header("X-Tenant")).isEqualTo("acme");
	}

	@Test
	void headersTheCallerSetsOnTheCallReachAnyHost() throws Exception {
		TestHttpServer server = answeringServer();
		RestClient client = client("jdk", ReqctxHttp.interceptor().withPropagatedHeaders(List.of("X-Tenant")));
		try (CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(2));
				Scope scope = inbound(ctx, "req-12").attach()) {
			client.get()
				.uri(server.uri("/explicit"))
				.header("X-Request-Id", "chosen-by-the-caller")
				.header("X-Tenant", "partner-account")
				.retrieve()
				.toBodilessEntity();
		}
		RecordedRequest request = server.takeRequest(WAIT);
		assertThat(request.header("X-Request-Id")).isEqualTo("chosen-by-the-caller");
		assertThat(request.header("X-Tenant")).isEqualTo("partner-account");
	}

	@Test
	void withheldHeadersAreLoggedOncePerHost() throws Exception {
		ContextPropagatingInterceptor interceptor = ReqctxHttp.interceptor()
			.withPropagatedHeaders(List.of("X-Tenant"))
			.withInternalHosts(List.of("*.svc.internal"));
		try (RecordedLog log = RecordedLog.of(ContextPropagatingInterceptor.class)) {
			try (Scope scope = inbound(RequestContext.root(), "req-13").attach()) {
				for (int i = 0; i < 3; i++) {
					intercept(interceptor, "https://api.partner.example/v1/charges");
				}
				intercept(interceptor, "http://localhost:8080/");
				intercept(interceptor, "http://orders.svc.internal/orders");
			}
			try (Scope scope = RequestContext.root().withValue(StandardKeys.REQUEST_ID, "req-14").attach()) {
				intercept(interceptor, "https://api.partner.example/v1/charges");
			}
			try (Scope scope = RequestContext.root().attach()) {
				intercept(interceptor, "https://nothing-to-withhold.example/");
			}
			assertThat(log.infos()).containsExactly(
					"Not sending X-Request-Id, X-Tenant to api.partner.example: not in reqctx.http.internal-hosts "
							+ "(logged once per host)",
					"Not sending X-Request-Id, X-Tenant to localhost:8080: not in reqctx.http.internal-hosts "
							+ "(logged once per host)");
		}
	}

	@Test
	void theWithheldHeadersLogRemembersABoundedNumberOfHosts() throws Exception {
		ContextPropagatingInterceptor interceptor = ReqctxHttp.interceptor().withInternalHosts(LOOPBACK);
		int max = ContextPropagatingInterceptor.MAX_REPORTED_HOSTS;
		try (RecordedLog log = RecordedLog.of(ContextPropagatingInterceptor.class);
				Scope scope = RequestContext.root().withValue(StandardKeys.REQUEST_ID, "req-15").attach()) {
			for (int i = 0; i <= max; i++) {
				intercept(interceptor, "https://host-" + i + ".partner.example/");
			}
			assertThat(log.infos()).hasSize(max);
			assertThat(log.infos().get(max - 1)).isEqualTo("Not sending X-Request-Id to host-" + (max - 1)
					+ ".partner.example: not in reqctx.http.internal-hosts (logged once per host; " + max
					+ " hosts logged, no further host will be)");
		}
	}

	@Test
	void rootContextCallsPassThroughUntouched() throws Exception {
		TestHttpServer server = answeringServer();
		RestClient client = client("jdk", ReqctxHttp.interceptor().withInternalHosts(LOOPBACK));
		client.get().uri(server.uri("/plain")).retrieve().toBodilessEntity();
		RecordedRequest request = server.takeRequest(WAIT);
		assertThat(request.headers()).doesNotContainKeys("request-timeout-ms", "x-request-id");
	}

	/** A request's context as the filter makes it, with a request id and a tenant captured. */
	private static RequestContext inbound(RequestContext context, String requestId) {
		return context.withValue(StandardKeys.REQUEST_ID, requestId)
			.withValue(StandardKeys.PROPAGATED_HEADERS, Map.of("X-Tenant", "acme"));
	}

	/** Runs a call through the interceptor alone, to a response in memory: no network. */
	private static void intercept(ContextPropagatingInterceptor interceptor, String uri) throws Exception {
		MockClientHttpRequest request = new MockClientHttpRequest(HttpMethod.GET, URI.create(uri));
		interceptor.intercept(request, new byte[0], (req, body) -> new MockClientHttpResponse(new byte[0], HttpStatus.OK))
			.close();
	}

	private TestHttpServer silentServer() throws Exception {
		TestHttpServer server = TestHttpServer.silent();
		this.closeables.add(server);
		return server;
	}

	private TestHttpServer answeringServer() throws Exception {
		TestHttpServer server = TestHttpServer.answering();
		this.closeables.add(server);
		return server;
	}

	private RestClient client(String factory, ContextPropagatingInterceptor interceptor) {
		return RestClient.builder().requestFactory(requestFactory(factory)).requestInterceptor(interceptor).build();
	}

	private ClientHttpRequestFactory requestFactory(String name) {
		if (name.equals("jdk")) {
			JdkClientHttpRequestFactory factory = new JdkClientHttpRequestFactory();
			factory.setReadTimeout(CLIENT_TIMEOUT);
			return factory;
		}
		HttpComponentsClientHttpRequestFactory factory = new HttpComponentsClientHttpRequestFactory(
				ContextCancellingExecHandler.register(HttpClients.custom())
					.setDefaultRequestConfig(
							RequestConfig.custom().setResponseTimeout(Timeout.of(CLIENT_TIMEOUT)).build())
					.build());
		this.closeables.add(factory::destroy);
		return factory;
	}

	/**
	 * Records a logger's INFO lines, and keeps them off the console while it does. reqctx logs
	 * through {@link System.Logger}, which without a logging provider of its own (none here) is
	 * {@code java.util.logging}.
	 */
	static final class RecordedLog extends Handler implements AutoCloseable {

		private final Logger logger;

		private final boolean useParentHandlers;

		private final List<String> infos = new CopyOnWriteArrayList<>();

		private RecordedLog(Logger logger) {
			this.logger = logger;
			this.useParentHandlers = logger.getUseParentHandlers();
		}

		static RecordedLog of(Class<?> source) {
			RecordedLog log = new RecordedLog(Logger.getLogger(source.getName()));
			log.logger.addHandler(log);
			log.logger.setUseParentHandlers(false);
			return log;
		}

		List<String> infos() {
			return this.infos;
		}

		@Override
		public void publish(LogRecord record) {
			if (record.getLevel() == java.util.logging.Level.INFO) {
				this.infos.add(record.getMessage());
			}
		}

		@Override
		public void flush() {
		}

		@Override
		public void close() {
			this.logger.removeHandler(this);
			this.logger.setUseParentHandlers(this.useParentHandlers);
		}

	}

	/** Records what the interceptor reports for meters. */
	static final class RecordingObserver implements ContextObserver {

		final List<Long> started = new CopyOnWriteArrayList<>();

		final List<Cancelled> cancelled = new CopyOnWriteArrayList<>();

		@Override
		public void operationStarted(String operation, long remainingNanos) {
			assertThat(operation).isEqualTo("http");
			this.started.add(remainingNanos);
		}

		@Override
		public void operationCancelled(String operation, CancellationCause cause, long latencyNanos) {
			assertThat(operation).isEqualTo("http");
			this.cancelled.add(new Cancelled(cause, latencyNanos));
		}

		record Cancelled(CancellationCause cause, long latencyNanos) {
		}

	}

}
