package dev.reqctx.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.task.RequestContextThreadLocalAccessor;
import dev.reqctx.testsupport.AwaitCancel;
import dev.reqctx.testsupport.TestHttp;
import dev.reqctx.testsupport.TestHttp.Response;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.concurrent.EventExecutor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.HttpResources;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.reactive.function.client.WebClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Boot's {@code WebClient.Builder} in a Spring MVC application, over real sockets against
 * misbehaving servers: a server that accepts and never answers ({@link TestHttpServer#silent()})
 * and one that sends its headers and then stalls the body ({@link SlowBodyServer#stallingAfter(int)}).
 * The bound for "the server saw the connection closed" is 1 s after the deadline or cancel, for
 * two loaded cores; the measured times are a few milliseconds.
 */
@SpringBootTest(classes = WebClientIntegrationTests.WebClientApplication.class,
		webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "reqctx.http.propagate-headers=X-Tenant", "management.endpoints.web.exposure.include=requestcontexts",
				"management.endpoint.requestcontexts.access=unrestricted", "spring.application.name=webclient-tests" })
@Timeout(value = 60, threadMode = ThreadMode.SEPARATE_THREAD)
class WebClientIntegrationTests {

	private static final Duration CLOSE_BOUND = Duration.ofSeconds(1);

	private static final Duration WAIT = Duration.ofSeconds(10);

	private static final AtomicLong TAGS = new AtomicLong();

	/** The one host declared internal, by port: 127.0.0.1 on any other port is not. */
	private static final TestHttpServer INTERNAL = start();

	private static final TestHttpServer EXTERNAL = start();

	/** For the first call, so that class loading and Reactor Netty's start do not eat a budget. */
	private static final TestHttpServer WARM_UP = start();

	private static boolean warm;

	@DynamicPropertySource
	static void internalHosts(DynamicPropertyRegistry registry) {
		registry.add("reqctx.http.internal-hosts", () -> "127.0.0.1:" + INTERNAL.port());
	}

	@AfterAll
	static void stopServers() throws IOException {
		INTERNAL.close();
		EXTERNAL.close();
		WARM_UP.close();
	}

	@LocalServerPort
	int port;

	@Autowired
	MeterRegistry meters;

	private TestHttp http;

	private AutoCloseable server;

	@BeforeEach
	void setUp() {
		this.http = new TestHttp(this.port);
		if (!warm) {
			assertThat(this.http.get("/wc/block?url=" + WARM_UP.uri("/warm-up")).status()).isEqualTo(200);
			warm = true;
		}
	}

	@AfterEach
	void stopServer() throws Exception {
		if (this.server != null) {
			this.server.close();
		}
	}

	private TestHttpServer silent() throws IOException {
		TestHttpServer silent = TestHttpServer.silent();
		this.server = silent;
		return silent;
	}

	private SlowBodyServer stalling() throws IOException {
		SlowBodyServer stalling = SlowBodyServer.stallingAfter(10);
		this.server = stalling;
		return stalling;
	}

	private static String tag(String name) {
		return "webclient-" + name + "-" + TAGS.incrementAndGet();
	}

	@Test
	void everyHostGetsTheBudgetButOnlyTheInternalOneGetsTheRequestIdAndTheTenant() throws Exception {
		String tag = tag("headers");
		assertThat(this.http.get("/wc/block?url=" + INTERNAL.uri("/internal"), "Request-Timeout-Ms", "2000",
				"X-Request-Id", tag, "X-Tenant", "acme").status()).isEqualTo(200);
		TestHttpServer.RecordedRequest internal = INTERNAL.takeRequest(WAIT);
		assertThat(Long.parseLong(internal.header("Request-Timeout-Ms"))).isBetween(1L, 1990L);
		assertThat(internal.header("X-Request-Id")).isEqualTo(tag);
		assertThat(internal.header("X-Tenant")).isEqualTo("acme");

		assertThat(this.http.get("/wc/block?url=" + EXTERNAL.uri("/external"), "Request-Timeout-Ms", "2000",
				"X-Request-Id", tag, "X-Tenant", "acme").status()).isEqualTo(200);
		TestHttpServer.RecordedRequest external = EXTERNAL.takeRequest(WAIT);
		assertThat(Long.parseLong(external.header("Request-Timeout-Ms"))).isBetween(1L, 1990L);
		assertThat(external.header("X-Request-Id")).isNull();
		assertThat(external.header("X-Tenant")).isNull();
	}

	@Test
	void aMonoReturnedFromTheHandlerSendsTheBudgetToo() throws Exception {
		assertThat(this.http.get("/wc/mono?url=" + EXTERNAL.uri("/mono"), "Request-Timeout-Ms", "1500").status())
			.isEqualTo(200);
		assertThat(Long.parseLong(EXTERNAL.takeRequest(WAIT).header("Request-Timeout-Ms"))).isBetween(1L, 1490L);
	}

	@Test
	void aChainSubscribedOnAnotherThreadRunsUnderTheContextPutInItsReactorContext() throws Exception {
		// The key automatic context propagation fills, so both ways agree.
		assertThat(ReqctxWebClient.CONTEXT_KEY).isEqualTo(RequestContextThreadLocalAccessor.KEY);
		assertThat(this.http.get("/wc/elsewhere?url=" + EXTERNAL.uri("/elsewhere"), "Request-Timeout-Ms", "1500")
			.status()).isEqualTo(200);
		assertThat(Long.parseLong(EXTERNAL.takeRequest(WAIT).header("Request-Timeout-Ms"))).isBetween(1L, 1490L);
	}

	@Test
	void aCallAfterTheDeadlinePassedFailsWithoutOpeningAConnection() throws Exception {
		TestHttpServer silent = silent();
		Response response = this.http.get("/wc/late?url=" + silent.uri("/late"), "Request-Timeout-Ms", "200");
		assertThat(response.status()).isEqualTo(504);
		assertThat(response.json().path("cause").asString()).isEqualTo("DEADLINE_EXCEEDED");
		assertThat(WebClientController.lateFailure.get()).isEqualTo("dev.reqctx.DeadlineExceededException");
		assertThat(silent.acceptedConnections()).as("connections the server accepted").isZero();
	}

	@Test
	void theDeadlineAbortsAnExchangeWaitingForAServerThatNeverAnswers() throws Exception {
		TestHttpServer silent = silent();
		long sent = System.nanoTime();
		Response response = this.http.get("/wc/block?url=" + silent.uri("/never?secret=1"), "Request-Timeout-Ms",
				"500");
		assertThat(response.status()).isEqualTo(504);
		assertThat(response.header("Content-Type")).startsWith("application/problem+json");
		assertThat(response.json().path("cause").asString()).isEqualTo("DEADLINE_EXCEEDED");
		long closedAt = silent.awaitClientClose(WAIT);
		Duration afterDeadline = Duration.ofNanos(closedAt - sent).minusMillis(500);
		assertThat(afterDeadline).as("server saw the close this long after the deadline").isLessThan(CLOSE_BOUND);
		assertThat(this.meters.get("reqctx.operations.cancelled")
			.tag("operation", "http")
			.tag("cause", "DEADLINE_EXCEEDED")
			.counter()
			.count()).isPositive();
	}

	@Test
	void theDeadlineAbortsAResponseWhoseBodyStalls() throws Exception {
		SlowBodyServer stalling = stalling();
		long sent = System.nanoTime();
		Response response = this.http.get("/wc/mono?url=" + stalling.uri("/stall"), "Request-Timeout-Ms", "500");
		assertThat(response.status()).isEqualTo(504);
		assertThat(response.json().path("cause").asString()).isEqualTo("DEADLINE_EXCEEDED");
		stalling.awaitHeadersSent(WAIT);
		long closedAt = stalling.awaitClientClose(WAIT);
		assertThat(Duration.ofNanos(closedAt - sent).minusMillis(500)).as("server saw the close after the deadline")
			.isLessThan(CLOSE_BOUND);
	}

	@Test
	void theExchangeShowsInTheLiveTreeAndAnOperatorCancelAbortsIt() throws Exception {
		TestHttpServer silent = silent();
		String tag = tag("operator");
		CompletableFuture<Response> answer = this.http.getAsync("/wc/mono?url=" + silent.uri("/never?secret=1"),
				"Request-Timeout-Ms", "20000", "X-Request-Id", tag);
		silent.takeRequest(WAIT);
		JsonNode operation = awaitOperation(tag);
		assertThat(operation.path("kind").asString()).isEqualTo("http");
		assertThat(operation.path("description").asString()).isEqualTo("GET " + silent.uri("/never"));
		long cancelled = System.nanoTime();
		assertThat(this.http.post("/actuator/requestcontexts/" + tag).status()).isEqualTo(200);
		long closedAt = silent.awaitClientClose(WAIT);
		assertThat(Duration.ofNanos(closedAt - cancelled)).as("server saw the close after the cancel")
			.isLessThan(CLOSE_BOUND);
		Response response = answer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
		assertThat(response.status()).isEqualTo(503);
		assertThat(response.json().path("cause").asString()).isEqualTo("CANCELLED");
	}

	@Test
	void cancellingTheRequestAbortsABodyReadUnderAChildContext() throws Exception {
		SlowBodyServer stalling = stalling();
		String tag = tag("parent");
		CompletableFuture<Response> answer = this.http.getAsync("/wc/child?url=" + stalling.uri("/stall"),
				"Request-Timeout-Ms", "20000", "X-Request-Id", tag);
		stalling.awaitHeadersSent(WAIT);
		await("the child's http operation in the live tree").atMost(WAIT)
			.pollInterval(Duration.ofMillis(20))
			.until(() -> this.http.get("/actuator/requestcontexts/" + tag).body().contains("\"kind\":\"http\""));
		long cancelled = System.nanoTime();
		assertThat(this.http.post("/actuator/requestcontexts/" + tag).status()).isEqualTo(200);
		long closedAt = stalling.awaitClientClose(WAIT);
		assertThat(Duration.ofNanos(closedAt - cancelled)).as("server saw the close after the cancel")
			.isLessThan(CLOSE_BOUND);
		Response response = answer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
		assertThat(response.status()).isEqualTo(503);
		assertThat(response.json().path("cause").asString()).isEqualTo("CANCELLED");
	}

	@Test
	void theOperationLeavesTheLiveTreeWhenTheCallerGivesUpAndWhenTheBodyEnds() throws Exception {
		TestHttpServer silent = silent();
		String tag = tag("ended");
		WebClientController.stop = new CompletableFuture<>();
		WebClientController.called = new CountDownLatch(1);
		WebClientController.release = new CountDownLatch(1);
		CompletableFuture<Response> answer = this.http.getAsync(
				"/wc/then-wait?stuck=" + silent.uri("/stuck") + "&url=" + EXTERNAL.uri("/done"), "Request-Timeout-Ms",
				"20000", "X-Request-Id", tag);
		try {
			silent.takeRequest(WAIT);
			assertThat(awaitOperation(tag).path("description").asString()).isEqualTo("GET " + silent.uri("/stuck"));
			// The handler's own timeout cancels its subscription to the stuck call.
			WebClientController.stop.complete("stop");
			silent.awaitClientClose(WAIT);
			EXTERNAL.takeRequest(WAIT);
			assertThat(WebClientController.called.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
			JsonNode tree = this.http.get("/actuator/requestcontexts/" + tag).json();
			assertThat(tree.path("id").asString()).as("the request is still in flight").isNotEmpty();
			assertThat(tree.path("operations").toString()).doesNotContain("http");
		}
		finally {
			WebClientController.release.countDown();
		}
		assertThat(answer.get(WAIT.toSeconds(), TimeUnit.SECONDS).body()).isEqualTo("stopped, ok");
	}

	@Test
	void theRequestContextIsCurrentInAMapOperatorOnANettyThreadAndNotLeftThere() throws Exception {
		String tag = tag("map");
		JsonNode seen = this.http.get("/wc/map?url=" + EXTERNAL.uri("/map"), "X-Request-Id", tag).json();
		EXTERNAL.takeRequest(WAIT);
		assertThat(seen.path("mapThread").asString()).as("where map ran").contains("reactor-http");
		assertThat(seen.path("mapContext").asString()).isEqualTo(seen.path("handlerContext").asString());
		EventExecutor loop = eventLoopOf(WebClientController.mapThread.get());
		boolean rootThere = loop.submit(() -> RequestContext.current() == RequestContext.root())
			.get(WAIT.toSeconds(), TimeUnit.SECONDS);
		assertThat(rootThere).as("the event loop thread has no context bound after the signal").isTrue();
	}

	/** The event loop of Reactor Netty's global client resources (Boot's default) that runs on the thread. */
	private static EventExecutor eventLoopOf(Thread thread) {
		for (boolean preferNative : new boolean[] { true, false }) {
			for (EventExecutor executor : HttpResources.get().onClient(preferNative)) {
				if (executor.inEventLoop(thread)) {
					return executor;
				}
			}
		}
		throw new AssertionError("No event loop of Reactor Netty's client runs on " + thread);
	}

	/** Polls the live tree until the request shows its first operation. */
	private JsonNode awaitOperation(String tag) {
		AtomicReference<JsonNode> found = new AtomicReference<>();
		await("an operation of " + tag + " in the live tree").atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> {
			Response response = this.http.get("/actuator/requestcontexts/" + tag);
			JsonNode operations = (response.status() == 200) ? response.json().path("operations") : null;
			if (operations != null && operations.size() > 0) {
				found.set(operations.get(0));
				return true;
			}
			return false;
		});
		return found.get();
	}

	private static TestHttpServer start() {
		try {
			return TestHttpServer.answering();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(WebClientController.class)
	static class WebClientApplication {

	}

	@RestController
	static class WebClientController {

		/** Bounds every call, so that with reqctx off a test fails instead of hanging. */
		private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);

		static final AtomicReference<String> lateFailure = new AtomicReference<>();

		static final AtomicReference<Thread> mapThread = new AtomicReference<>();

		static volatile CompletableFuture<String> stop = new CompletableFuture<>();

		static volatile CountDownLatch called = new CountDownLatch(0);

		static volatile CountDownLatch release = new CountDownLatch(0);

		private final WebClient client;

		WebClientController(WebClient.Builder builder) {
			this.client = builder.build();
		}

		private Mono<String> get(String url) {
			return this.client.get().uri(url).retrieve().bodyToMono(String.class).timeout(CALL_TIMEOUT);
		}

		@GetMapping("/wc/block")
		String block(@RequestParam String url) {
			return get(url).block();
		}

		@GetMapping("/wc/mono")
		Mono<String> mono(@RequestParam String url) {
			return get(url);
		}

		@GetMapping("/wc/elsewhere")
		String elsewhere(@RequestParam String url) {
			return get(url).subscribeOn(Schedulers.boundedElastic())
				.contextWrite(ReqctxWebClient.withContext(RequestContext.current()))
				.block();
		}

		@GetMapping("/wc/late")
		String late(@RequestParam String url) throws InterruptedException {
			AwaitCancel.until(RequestContext.current());
			try {
				return get(url).block();
			}
			catch (RuntimeException ex) {
				lateFailure.set(ex.getClass().getName());
				throw ex;
			}
		}

		@GetMapping("/wc/child")
		@SuppressWarnings("try")
		String child(@RequestParam String url) {
			try (Scope scope = RequestContext.current().withTimeout(Duration.ofSeconds(30)).attach()) {
				return get(url).block();
			}
		}

		@GetMapping("/wc/then-wait")
		String thenWait(@RequestParam String stuck, @RequestParam String url) throws InterruptedException {
			String stopped = this.client.get()
				.uri(stuck)
				.retrieve()
				.bodyToMono(String.class)
				.timeout(Mono.fromFuture(stop))
				.onErrorResume(TimeoutException.class, (ex) -> Mono.just("stopped"))
				.block(CALL_TIMEOUT);
			String body = stopped + ", " + get(url).block();
			called.countDown();
			release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
			return body;
		}

		@GetMapping("/wc/map")
		Mono<Map<String, Object>> map(@RequestParam String url) {
			String handlerContext = RequestContext.current().id();
			return get(url).map((body) -> {
				mapThread.set(Thread.currentThread());
				Map<String, Object> seen = new LinkedHashMap<>();
				seen.put("handlerContext", handlerContext);
				seen.put("mapContext", RequestContext.current().id());
				seen.put("mapThread", Thread.currentThread().getName());
				return seen;
			});
		}

	}

}
