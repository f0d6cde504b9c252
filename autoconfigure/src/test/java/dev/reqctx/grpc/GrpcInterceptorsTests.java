package dev.reqctx.grpc;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.zaxxer.hikari.HikariDataSource;
import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.DeadlineExceededException;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.StandardKeys;
import dev.reqctx.UnitOfWork;
import dev.reqctx.jdbc.ContextDataSource;
import dev.reqctx.spi.ContextTree;
import dev.reqctx.spi.Contexts;
import dev.reqctx.testsupport.PostgresServer;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * Both interceptors over a real HTTP/2 socket (grpc-java's Netty transport on 127.0.0.1), with a
 * service defined by hand (a UTF-8 string in, a string out; no generated code), and a handler
 * whose SQL runs on a real PostgreSQL.
 *
 * <p>Margins are for two loaded cores: a cancel crosses the loopback socket and an executor hop
 * in a few milliseconds on a quiet machine; the bounds allow 1 s.
 */
@Timeout(value = 60, threadMode = ThreadMode.SEPARATE_THREAD)
class GrpcInterceptorsTests {

	private static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {

		@Override
		public InputStream stream(String value) {
			return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
		}

		@Override
		public String parse(InputStream stream) {
			try {
				return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		}

	};

	static final MethodDescriptor<String, String> RUN = MethodDescriptor.<String, String>newBuilder()
		.setType(MethodDescriptor.MethodType.UNARY)
		.setFullMethodName(MethodDescriptor.generateFullMethodName("test.Work", "Run"))
		.setRequestMarshaller(UTF8)
		.setResponseMarshaller(UTF8)
		.build();

	private static final Duration MARGIN = Duration.ofSeconds(1);

	private static final AtomicLong MARKERS = new AtomicLong();

	private static final ContextRuntime runtime = new ContextRuntime("grpc-tests", 10, false);

	private static final Handler handler = new Handler();

	private static ExecutorService serverExecutor;

	private static Server server;

	private static ManagedChannel channel;

	private static HikariDataSource pool;

	private static final PostgresServer pg = PostgresServer.get();

	@BeforeAll
	static void start() throws IOException {
		pool = pg.newHikariDataSource(4);
		handler.jdbc = new JdbcTemplate(new ContextDataSource(pool));
		serverExecutor = Executors.newFixedThreadPool(4);
		ServerServiceDefinition service = ServerServiceDefinition.builder("test.Work")
			.addMethod(RUN, ServerCalls.asyncUnaryCall(handler::handle))
			.build();
		server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
			.executor(serverExecutor)
			.addService(ServerInterceptors.intercept(service, new ContextServerInterceptor(runtime)))
			.build()
			.start();
		channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
			.usePlaintext()
			.intercept(new ContextClientInterceptor())
			.build();
		ClientCalls.blockingUnaryCall(channel, RUN, CallOptions.DEFAULT, "echo"); // warm up
	}

	@AfterAll
	static void stop() throws InterruptedException {
		handler.release.countDown();
		channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
		server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
		serverExecutor.shutdownNow();
		pool.close();
	}

	// --- client interceptor ---

	@Test
	void clientCallDeadlineIsTheContextsRemainingBudget() {
		String reply;
		try (UnitOfWork work = runtime.work("caller").timeout(Duration.ofSeconds(2)).start()) {
			reply = ClientCalls.blockingUnaryCall(channel, RUN, CallOptions.DEFAULT, "deadline");
		}
		Map<String, Long> seen = parse(reply);
		assertThat(seen.get("grpc")).as("the server's inbound deadline (ms): %s", reply).isBetween(1000L, 2000L);
	}

	@Test
	void anEarlierDeadlineOfTheCallItselfIsKept() {
		String reply;
		try (UnitOfWork work = runtime.work("caller").timeout(Duration.ofSeconds(20)).start()) {
			reply = ClientCalls.blockingUnaryCall(channel, RUN,
					CallOptions.DEFAULT.withDeadlineAfter(700, TimeUnit.MILLISECONDS), "deadline");
		}
		assertThat(parse(reply).get("grpc")).as(reply).isBetween(1L, 700L);
	}

	@Test
	void callFailsFastWithoutReachingTheServerWhenTheContextIsCancelled() {
		int before = handler.calls.get();
		Throwable thrown;
		try (UnitOfWork work = runtime.work("caller").timeout(Duration.ofSeconds(20)).start()) {
			work.context().cancel();
			thrown = catchThrowable(() -> ClientCalls.blockingUnaryCall(channel, RUN, CallOptions.DEFAULT, "echo"));
		}
		assertThat(thrown).isInstanceOf(StatusRuntimeException.class);
		assertThat(Status.fromThrowable(thrown).getCode()).isEqualTo(Status.Code.CANCELLED);
		assertThat(ContextCancelledException.findIn(thrown).getCancellationCause()).isEqualTo(CancellationCause.CANCELLED);
		assertThat(handler.calls.get()).as("calls that reached the server").isEqualTo(before);
	}

	@Test
	void callFailsFastWithDeadlineExceededWhenTheBudgetIsSpent() {
		int before = handler.calls.get();
		Throwable thrown;
		try (UnitOfWork work = runtime.work("caller").timeout(Duration.ofMillis(1)).start()) {
			await().atMost(Duration.ofSeconds(5)).until(work.context()::isCancelled);
			thrown = catchThrowable(() -> ClientCalls.blockingUnaryCall(channel, RUN, CallOptions.DEFAULT, "echo"));
		}
		assertThat(Status.fromThrowable(thrown).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
		assertThat(ContextCancelledException.findIn(thrown)).isInstanceOf(DeadlineExceededException.class);
		assertThat(handler.calls.get()).isEqualTo(before);
	}

	@Test
	void cancellingTheCallersContextMidCallResetsTheStreamAtTheServer() throws Exception {
		Blocked blocked = handler.expectBlock();
		ExecutorService caller = Executors.newSingleThreadExecutor();
		try (UnitOfWork work = runtime.work("caller").timeout(Duration.ofSeconds(30)).start()) {
			CancellableContext ctx = work.context();
			Future<Throwable> outcome = caller.submit(ctx.wrap(
					() -> catchThrowable(() -> ClientCalls.blockingUnaryCall(channel, RUN, CallOptions.DEFAULT, "block"))));
			assertThat(blocked.started.await(5, TimeUnit.SECONDS)).isTrue();
			List<ContextTree.OperationView> operations = Contexts.tree(ctx).operations();
			assertThat(operations).singleElement()
				.satisfies((op) -> assertThat(op.kind()).isEqualTo("grpc"))
				.satisfies((op) -> assertThat(op.description()).endsWith("/test.Work/Run"));
			long cancelledAt = System.nanoTime();
			ctx.cancel();
			assertThat(blocked.grpcCancelled.await(MARGIN.toMillis(), TimeUnit.MILLISECONDS))
				.as("the server's call was cancelled within %s", MARGIN).isTrue();
			System.out.printf("grpc client cancel -> server call cancelled: %.1f ms%n",
					(blocked.grpcCancelledAt - cancelledAt) / 1e6);
			assertThat(blocked.reqctxCause.get(1, TimeUnit.SECONDS)).isEqualTo(CancellationCause.CLIENT_GONE);
			Throwable thrown = outcome.get(5, TimeUnit.SECONDS);
			assertThat(Status.fromThrowable(thrown).getCode()).isEqualTo(Status.Code.CANCELLED);
			assertThat(ContextCancelledException.findIn(thrown).getCancellationCause())
				.isEqualTo(CancellationCause.CANCELLED);
			assertThat(Contexts.tree(ctx).operations()).as("operations once the call closed").isEmpty();
		}
		finally {
			caller.shutdownNow();
		}
	}

	@Test
	void theCallersDeadlinePassingMidCallEndsTheCallAtTheServer() throws Exception {
		Blocked blocked = handler.expectBlock();
		Throwable thrown;
		long deadline;
		try (UnitOfWork work = runtime.work("caller").timeout(Duration.ofMillis(400)).start()) {
			deadline = work.context().deadline().orElseThrow().nanoTime();
			thrown = catchThrowable(() -> ClientCalls.blockingUnaryCall(channel, RUN, CallOptions.DEFAULT, "block"));
		}
		assertThat(blocked.grpcCancelled.await(MARGIN.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
		assertThat(Duration.ofNanos(blocked.grpcCancelledAt - deadline)).isLessThan(MARGIN);
		assertThat(Status.fromThrowable(thrown).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
		assertThat(ContextCancelledException.findIn(thrown)).isInstanceOf(DeadlineExceededException.class);
		assertThat(blocked.reqctxCause.get(1, TimeUnit.SECONDS)).isEqualTo(CancellationCause.DEADLINE_EXCEEDED);
	}

	// --- server interceptor ---

	@Test
	void inboundDeadlineAndRequestIdBecomeTheCallsContext() {
		Metadata headers = new Metadata();
		headers.put(ContextServerInterceptor.REQUEST_ID_KEY, "grpc-req-1");
		// A caller without reqctx: only gRPC's own deadline goes on the wire.
		String reply = ClientCalls.blockingUnaryCall(
				io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers)), RUN,
				CallOptions.DEFAULT.withDeadlineAfter(1500, TimeUnit.MILLISECONDS), "deadline");
		Map<String, Long> seen = parse(reply);
		assertThat(seen.get("reqctx")).as(reply).isBetween(500L, 1500L);
		assertThat(seen.get("live")).as("the call listed as a REQUEST root").isEqualTo(1L);
		assertThat(handler.lastRequestId).isEqualTo("grpc-req-1");
		await().atMost(Duration.ofSeconds(5)).until(() -> runtime.live().isEmpty());
	}

	@Test
	void clientCancelCancelsTheServersContextWithClientGoneAndStopsItsSqlOnPostgres() throws Exception {
		String marker = "/* reqctx-grpc-" + MARKERS.incrementAndGet() + " */";
		handler.sqlCause = new CompletableFuture<>();
		ClientCall<String, String> call = channel.newCall(RUN, CallOptions.DEFAULT);
		CompletableFuture<Status> closed = new CompletableFuture<>();
		call.start(new ClientCall.Listener<>() {

			@Override
			public void onClose(Status status, Metadata trailers) {
				closed.complete(status);
			}

		}, new Metadata());
		call.request(1);
		call.sendMessage("sql:" + marker);
		call.halfClose();
		assertThat(pg.awaitActive("%" + marker + "%", 1, Duration.ofSeconds(10))).isTrue();
		long cancelledAt = System.nanoTime();
		call.cancel("the client gives up", null);
		assertThat(pg.awaitNoActive("%" + marker + "%", MARGIN))
			.as("pg_sleep gone from pg_stat_activity within %s of the client's cancel", MARGIN)
			.isTrue();
		System.out.printf("grpc client cancel -> pg_sleep gone from pg_stat_activity: %.1f ms%n",
				(System.nanoTime() - cancelledAt) / 1e6);
		assertThat(handler.sqlCause.get(5, TimeUnit.SECONDS)).isEqualTo(CancellationCause.CLIENT_GONE);
		assertThat(closed.get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
		await().atMost(Duration.ofSeconds(5)).until(() -> runtime.live().isEmpty());
	}

	@Test
	void anOperatorCancelOfTheServersContextClosesTheCallWhileTheHandlerIsStuck() throws Exception {
		CountDownLatch started = handler.expectHang();
		CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(
				() -> catchThrowable(() -> ClientCalls.blockingUnaryCall(channel, RUN, CallOptions.DEFAULT, "hang")));
		assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
		CancellableContext root = runtime.live().list().stream()
			.filter((ctx) -> ctx.kind() == ContextKind.REQUEST)
			.findFirst()
			.orElseThrow();
		assertThat(Contexts.label(root)).hasToString("POST /test.Work/Run");
		long cancelledAt = System.nanoTime();
		root.cancel();
		Throwable thrown = outcome.get(MARGIN.toMillis(), TimeUnit.MILLISECONDS);
		System.out.printf("operator cancel of the server context -> client answered: %.1f ms%n",
				(System.nanoTime() - cancelledAt) / 1e6);
		assertThat(Status.fromThrowable(thrown).getCode()).isEqualTo(Status.Code.CANCELLED);
		assertThat(Status.fromThrowable(thrown).getDescription()).contains(root.id());
		handler.hang.countDown();
		await().atMost(Duration.ofSeconds(5)).until(() -> runtime.live().isEmpty());
	}

	@Test
	void noContextIsLeftBoundOnTheServersExecutorThreads() throws Exception {
		for (int i = 0; i < 8; i++) {
			String reply = ClientCalls.blockingUnaryCall(channel, RUN,
					CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), "deadline");
			assertThat(parse(reply).get("reqctx")).as("the handler ran in a context: %s", reply).isPositive();
		}
		await().atMost(Duration.ofSeconds(5)).until(() -> runtime.live().isEmpty());
		// One task per pool thread, held at a barrier so that each thread runs one.
		CyclicBarrier barrier = new CyclicBarrier(4);
		List<Future<Boolean>> bound = new java.util.ArrayList<>();
		for (int i = 0; i < 4; i++) {
			bound.add(serverExecutor.submit(() -> {
				barrier.await(5, TimeUnit.SECONDS);
				return Scope.isAnyBound();
			}));
		}
		for (Future<Boolean> result : bound) {
			assertThat(result.get(10, TimeUnit.SECONDS)).as("a context still bound on a server thread").isFalse();
		}
	}

	private static Map<String, Long> parse(String reply) {
		Map<String, Long> values = new ConcurrentHashMap<>();
		for (String pair : reply.split(" ")) {
			String[] kv = pair.split("=");
			values.put(kv[0], Long.parseLong(kv[1]));
		}
		return values;
	}

	/** What a "block" call saw at the server. */
	static final class Blocked {

		final CountDownLatch started = new CountDownLatch(1);

		final CountDownLatch grpcCancelled = new CountDownLatch(1);

		volatile long grpcCancelledAt;

		final CompletableFuture<CancellationCause> reqctxCause = new CompletableFuture<>();

	}

	/** The service: what it does depends on the request. */
	static final class Handler {

		final AtomicInteger calls = new AtomicInteger();

		final CountDownLatch release = new CountDownLatch(1);

		volatile JdbcTemplate jdbc;

		volatile Blocked blocked;

		volatile CountDownLatch hangStarted;

		volatile CountDownLatch hang = new CountDownLatch(1);

		volatile String lastRequestId;

		volatile CompletableFuture<CancellationCause> sqlCause;

		Blocked expectBlock() {
			this.blocked = new Blocked();
			return this.blocked;
		}

		CountDownLatch expectHang() {
			this.hangStarted = new CountDownLatch(1);
			this.hang = new CountDownLatch(1);
			return this.hangStarted;
		}

		void handle(String request, StreamObserver<String> response) {
			this.calls.incrementAndGet();
			RequestContext ctx = RequestContext.current();
			switch (request.startsWith("sql:") ? "sql" : request) {
				case "deadline" -> {
					io.grpc.Deadline inbound = Context.current().getDeadline();
					this.lastRequestId = ctx.get(StandardKeys.REQUEST_ID);
					response.onNext("grpc=" + ((inbound != null) ? inbound.timeRemaining(TimeUnit.MILLISECONDS) : -1)
							+ " reqctx=" + ctx.remaining().map(Duration::toMillis).orElse(-1L) + " live="
							+ runtime.live().size());
					response.onCompleted();
				}
				case "block" -> {
					Blocked b = this.blocked;
					ctx.onCancel(() -> b.reqctxCause.complete(ctx.cause()));
					Context.current().addListener((c) -> {
						b.grpcCancelledAt = System.nanoTime();
						b.grpcCancelled.countDown();
					}, Runnable::run);
					b.started.countDown();
					await(b.grpcCancelled, 10);
					response.onError(Status.CANCELLED.asRuntimeException());
				}
				case "hang" -> {
					this.hangStarted.countDown();
					await(this.hang, 10); // ignores every cancel
					response.onNext("late");
					response.onCompleted();
				}
				case "sql" -> {
					CompletableFuture<CancellationCause> cause = this.sqlCause;
					ctx.onCancel(() -> cause.complete(ctx.cause()));
					this.jdbc.queryForObject("SELECT 1 FROM pg_sleep(30) " + request.substring(4), Integer.class);
					response.onNext("slept");
					response.onCompleted();
				}
				default -> {
					response.onNext(request);
					response.onCompleted();
				}
			}
		}

		private static void await(CountDownLatch latch, int seconds) {
			try {
				latch.await(seconds, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

	}

}
