package dev.reqctx.grpc;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.reqctx.ContextRuntime;
import dev.reqctx.testsupport.PostgresServer;
import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.event.EventListener;
import org.springframework.grpc.client.GrpcChannelFactory;
import org.springframework.grpc.server.lifecycle.GrpcServerStartedEvent;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * gRPC, Spring MVC and SQL in one reqctx application, wired by Spring Boot's gRPC server and
 * channel auto-configuration with reqctx's interceptors as their global ones: a gRPC server
 * (Netty on 127.0.0.1) whose handler calls the application's MVC endpoint with
 * {@code RestClient}, or runs SQL itself; an MVC endpoint that calls the gRPC server through a
 * channel from Spring's {@link GrpcChannelFactory}; every statement a {@code pg_sleep} on a real
 * PostgreSQL. Each test measures from the cause (a deadline, a client's cancel) to the statement
 * gone from {@code pg_stat_activity}, and allows 1 s on two loaded cores.
 */
@Timeout(value = 90, threadMode = ThreadMode.SEPARATE_THREAD)
class GrpcChainTests {

	private static final Duration MARGIN = Duration.ofSeconds(1);

	private static final AtomicLong MARKERS = new AtomicLong();

	private static final PostgresServer pg = PostgresServer.get();

	private static ConfigurableApplicationContext application;

	private static ManagedChannel channel;

	private static int httpPort;

	private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

	@BeforeAll
	static void start() {
		application = new SpringApplicationBuilder(ChainApplication.class)
			.properties("server.port=0", "server.address=127.0.0.1", "spring.main.banner-mode=off",
					"spring.grpc.server.port=0", "spring.grpc.server.address=127.0.0.1",
					"spring.datasource.url=" + pg.jdbcUrl(), "spring.datasource.username=" + pg.username(),
					"spring.datasource.password=" + pg.password(), "spring.datasource.hikari.maximum-pool-size=4",
					"spring.http.clients.imperative.factory=jdk", "reqctx.web.max-timeout=30s")
			.run();
		httpPort = ((WebServerApplicationContext) application).getWebServer().getPort();
		channel = NettyChannelBuilder.forAddress("127.0.0.1", application.getBean(GrpcPort.class).port)
			.usePlaintext()
			.build();
		// Warm up both paths, so class loading does not eat a measured budget.
		ClientCalls.blockingUnaryCall(channel, GrpcInterceptorsTests.RUN, CallOptions.DEFAULT, "echo");
		try {
			HttpClient.newHttpClient()
				.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/grpc-echo")).build(),
						HttpResponse.BodyHandlers.discarding());
		}
		catch (java.io.IOException ex) {
			throw new java.io.UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	@AfterAll
	static void stop() throws InterruptedException {
		if (channel != null) {
			channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
		}
		if (application != null) {
			application.close();
		}
	}

	private static String marker(String name) {
		return "/* reqctx-grpc-chain-" + name + "-" + MARKERS.incrementAndGet() + " */";
	}

	@Test
	void grpcDeadlineFlowsThroughMvcToTheSqlWhichStopsOnPostgresAtTheDeadline() throws Exception {
		String marker = marker("deadline");
		long start = System.nanoTime();
		long deadline = start + TimeUnit.MILLISECONDS.toNanos(1500);
		Throwable thrown = catchThrowable(() -> ClientCalls.blockingUnaryCall(channel, GrpcInterceptorsTests.RUN,
				CallOptions.DEFAULT.withDeadlineAfter(1500, TimeUnit.MILLISECONDS), "mvc:" + marker));
		assertThat(Status.fromThrowable(thrown).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
		// The statement ran (the chain reached PostgreSQL) and is gone within the margin.
		assertThat(application.getBean(SleepController.class).started.get()).isPositive();
		assertThat(pg.awaitNoActive("%" + marker + "%", MARGIN)).as("pg_sleep gone within %s of the deadline", MARGIN)
			.isTrue();
		System.out.printf("grpc deadline -> mvc -> pg_sleep gone from pg_stat_activity: %.1f ms after the deadline%n",
				(System.nanoTime() - deadline) / 1e6);
		await().atMost(Duration.ofSeconds(5)).until(() -> application.getBean(ContextRuntime.class).live().isEmpty());
	}

	@Test
	void cancellingTheGrpcCallStopsTheHandlersSqlOnPostgres() throws Exception {
		long millis = cancelWhileTheSqlRuns("sql:", marker("cancel"), "pg_sleep");
		System.out.printf("grpc client cancel -> pg_sleep gone from pg_stat_activity (Spring gRPC server): %d ms%n",
				millis);
	}

	@Test
	void cancellingTheGrpcCallStopsTheSqlOfTheMvcEndpointItCalled() throws Exception {
		// gRPC -> RestClient -> MVC -> SQL: the call's cancel aborts the handler's exchange, and
		// the MVC request sees its client gone (reqctx.web.detect-client-gone).
		long millis = cancelWhileTheSqlRuns("mvc:", marker("cancel-mvc"), "the MVC endpoint's pg_sleep");
		System.out.printf("grpc client cancel -> mvc -> pg_sleep gone from pg_stat_activity: %d ms%n", millis);
	}

	/**
	 * Starts a call whose handler runs {@code pg_sleep} (itself, or through the MVC endpoint),
	 * cancels it from the client once the statement runs, and checks that the statement is gone
	 * within the margin, the call closed {@code CANCELLED} and nothing left in the live tree.
	 * @return milliseconds from the cancel to the statement gone
	 */
	private long cancelWhileTheSqlRuns(String route, String marker, String what) throws Exception {
		ClientCall<String, String> call = channel.newCall(GrpcInterceptorsTests.RUN, CallOptions.DEFAULT);
		CompletableFuture<Status> closed = new CompletableFuture<>();
		call.start(new ClientCall.Listener<>() {

			@Override
			public void onClose(Status status, Metadata trailers) {
				closed.complete(status);
			}

		}, new Metadata());
		call.request(1);
		call.sendMessage(route + marker);
		call.halfClose();
		assertThat(pg.awaitActive("%" + marker + "%", 1, Duration.ofSeconds(10))).isTrue();
		long cancelledAt = System.nanoTime();
		call.cancel("the client gives up", null);
		assertThat(pg.awaitNoActive("%" + marker + "%", MARGIN))
			.as("%s gone within %s of the client's cancel", what, MARGIN)
			.isTrue();
		long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cancelledAt);
		assertThat(closed.get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
		await().atMost(Duration.ofSeconds(5)).until(() -> application.getBean(ContextRuntime.class).live().isEmpty());
		return millis;
	}

	@Test
	void mvcRequestsDeadlineReachesTheGrpcCallsSqlAndTheRequestAnswers504() throws Exception {
		String marker = marker("mvc-grpc");
		HttpRequest request = HttpRequest
			.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/grpc-sql?marker="
					+ java.net.URLEncoder.encode(marker, java.nio.charset.StandardCharsets.UTF_8)))
			.header("Request-Timeout-Ms", "800")
			.build();
		long start = System.nanoTime();
		HttpResponse<String> response = this.http.send(request, HttpResponse.BodyHandlers.ofString());
		long answered = System.nanoTime();
		assertThat(response.statusCode()).as(response.body()).isEqualTo(504);
		assertThat(Duration.ofNanos(answered - start)).isLessThan(Duration.ofMillis(800).plus(MARGIN));
		assertThat(pg.awaitNoActive("%" + marker + "%", MARGIN)).isTrue();
		System.out.printf("mvc deadline (800 ms) -> grpc -> pg_sleep gone %.1f ms after the call started; "
				+ "answered 504 after %.1f ms%n", (System.nanoTime() - start) / 1e6, (answered - start) / 1e6);
	}

	@SpringBootConfiguration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	@Import({ SleepController.class, GrpcPort.class })
	static class ChainApplication {

		@Bean
		BindableService chainService(RestClient.Builder builder, JdbcTemplate jdbc, ObjectProvider<WebServerApplicationContext> web) {
			RestClient client = builder.build();
			return () -> ServerServiceDefinition.builder("test.Work")
				.addMethod(GrpcInterceptorsTests.RUN,
						ServerCalls.asyncUnaryCall((String request, StreamObserver<String> response) -> {
							String reply;
							if (request.startsWith("mvc:")) {
								int port = web.getObject().getWebServer().getPort();
								reply = client.get()
									.uri("http://127.0.0.1:" + port + "/sleep?marker={m}", request.substring(4))
									.retrieve()
									.body(String.class);
							}
							else if (request.startsWith("sql:")) {
								reply = String.valueOf(jdbc.queryForObject(
										"SELECT 1 FROM pg_sleep(30) " + request.substring(4), Integer.class));
							}
							else {
								reply = request;
							}
							response.onNext(reply);
							response.onCompleted();
						}))
				.build();
		}

	}

	/** Learns the gRPC server's ephemeral port. */
	static class GrpcPort {

		volatile int port;

		@EventListener
		void started(GrpcServerStartedEvent event) {
			this.port = event.getPort();
		}

	}

	@RestController
	static class SleepController {

		final AtomicLong started = new AtomicLong();

		private final JdbcTemplate jdbc;

		private final GrpcChannelFactory channels;

		private final GrpcPort grpcPort;

		private volatile ManagedChannel channel;

		SleepController(JdbcTemplate jdbc, GrpcChannelFactory channels, GrpcPort grpcPort) {
			this.jdbc = jdbc;
			this.channels = channels;
			this.grpcPort = grpcPort;
		}

		@GetMapping("/sleep")
		String sleep(@RequestParam String marker) {
			this.started.incrementAndGet();
			return String.valueOf(this.jdbc.queryForObject("SELECT 1 FROM pg_sleep(30) " + marker, Integer.class));
		}

		/** Calls the gRPC server through a channel of Spring's factory (global interceptors). */
		@GetMapping("/grpc-sql")
		String grpcSql(@RequestParam String marker) {
			return ClientCalls.blockingUnaryCall(channel(), GrpcInterceptorsTests.RUN, CallOptions.DEFAULT,
					"sql:" + marker);
		}

		@GetMapping("/grpc-echo")
		String grpcEcho() {
			return ClientCalls.blockingUnaryCall(channel(), GrpcInterceptorsTests.RUN, CallOptions.DEFAULT, "echo");
		}

		private synchronized ManagedChannel channel() {
			if (this.channel == null) {
				this.channel = this.channels.createChannel("127.0.0.1:" + this.grpcPort.port);
			}
			return this.channel;
		}

	}

}
