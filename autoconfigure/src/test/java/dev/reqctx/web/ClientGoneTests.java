package dev.reqctx.web;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import dev.reqctx.RequestContext;
import dev.reqctx.testsupport.PostgresServer;
import dev.reqctx.testsupport.RawHttp;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A client that closes its connection while a blocking handler runs: on Tomcat over real
 * sockets, the handler's context is cancelled with {@code CLIENT_GONE} and its SQL stops on
 * PostgreSQL; pipelined bytes, a body still arriving and keep-alive connections are left alone.
 *
 * <p>Bounds: the detector looks every 50 ms, so a client that leaves a request younger than that
 * is noticed within about 100 ms on a quiet machine; the assertions allow 1 s for two loaded
 * cores and print what they measured.
 */
class ClientGoneTests {

	private static final AtomicLong TAGS = new AtomicLong();

	static String tag(String name) {
		return "gone-" + name + "-" + TAGS.incrementAndGet();
	}

	abstract static class Base {

		@LocalServerPort
		int port;

		@Autowired
		MeterRegistry meters;

		@DynamicPropertySource
		static void postgres(DynamicPropertyRegistry registry) {
			PostgresServer.registerDataSource(registry);
		}

		double clientGone() {
			var counter = this.meters.find("reqctx.requests").tag("outcome", "CLIENT_GONE").functionCounter();
			return (counter != null) ? counter.count() : 0;
		}

		/** Closes the connection once the handler runs; returns ms from the FIN to the cancel. */
		long closeWhileWaiting(RawHttp connection, String tag, long closeAfterMillis) throws Exception {
			Probe probe = Probes.of(tag);
			assertThat(probe.started.await(10, TimeUnit.SECONDS)).as("the handler started").isTrue();
			if (closeAfterMillis > 0) {
				Thread.sleep(closeAfterMillis); // the request's age when the client leaves, not a synchronisation
			}
			long closed = System.nanoTime();
			connection.close();
			String outcome = probe.outcome.get(5, TimeUnit.SECONDS);
			assertThat(outcome).isEqualTo("CLIENT_GONE");
			return TimeUnit.NANOSECONDS.toMillis(probe.cancelledAt - closed);
		}

	}

	@Nested
	@SpringBootTest(classes = ClientGoneApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT)
	class Http11 extends Base {

		final PostgresServer pg = PostgresServer.get();

		@Test
		void clientClosingWhileTheQueryRunsStopsTheQueryOnPostgres() throws Exception {
			double before = clientGone();
			String tag = tag("sql");
			RawHttp connection = new RawHttp(this.port);
			connection.send(connection.get("/sql/sleep?seconds=30&tag=" + tag));
			assertThat(this.pg.awaitActive("%" + tag + "%", 1, Duration.ofSeconds(10))).as("the query runs").isTrue();
			long closed = System.nanoTime();
			connection.close();
			assertThat(this.pg.awaitNoActive("%" + tag + "%", Duration.ofSeconds(2)))
				.as("the query is gone from pg_stat_activity within 2 s of the FIN").isTrue();
			long gone = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closed);
			await().atMost(Duration.ofSeconds(5)).until(() -> clientGone() == before + 1);
			System.out.println("client-gone: FIN to query gone from pg_stat_activity " + gone + " ms");
		}

		@Test
		void clientClosingCancelsAYoungAndAnOldRequestWithinASecond() throws Exception {
			List<Long> young = new ArrayList<>();
			List<Long> old = new ArrayList<>();
			for (int i = 0; i < 5; i++) {
				for (long age : new long[] { 0, 300 }) {
					String tag = tag("wait");
					RawHttp connection = new RawHttp(this.port);
					connection.send(connection.get("/wait?ms=10000&tag=" + tag));
					long millis = closeWhileWaiting(connection, tag, age);
					((age == 0) ? young : old).add(millis);
				}
			}
			System.out.println("client-gone: FIN to cancel, ms, request just started " + young + ", running 300 ms "
					+ old);
			assertThat(young).allSatisfy((ms) -> assertThat(ms).isBetween(0L, 1000L));
			assertThat(old).allSatisfy((ms) -> assertThat(ms).isBetween(0L, 1000L));
		}

		@Test
		void aPipelinedRequestIsNeitherReadNorTakenForAClientGone() throws Exception {
			String first = tag("first");
			String second = tag("second");
			try (RawHttp connection = new RawHttp(this.port)) {
				connection.send(connection.get("/wait?ms=400&tag=" + first));
				assertThat(Probes.of(first).started.await(10, TimeUnit.SECONDS)).isTrue();
				// Sent while the first runs and is watched: the bytes wait on the socket for Tomcat.
				connection.send(connection.get("/wait?ms=0&tag=" + second));
				RawHttp.Response one = connection.read();
				RawHttp.Response two = connection.read();
				assertThat(one.status()).isEqualTo(200);
				assertThat(one.body()).isEqualTo(first + ":none");
				assertThat(two.status()).isEqualTo(200);
				assertThat(two.body()).isEqualTo(second + ":none");
			}
		}

		@Test
		void aBodyStillArrivingIsReadWhole() throws Exception {
			String tag = tag("body");
			int size = 3 * 40_000;
			try (RawHttp connection = new RawHttp(this.port)) {
				connection.send("POST /echo?tag=" + tag + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
						+ "application/octet-stream\r\nContent-Length: " + size + "\r\n\r\n");
				for (int part = 0; part < 3; part++) {
					connection.send("x".repeat(40_000));
					if (part == 0) {
						assertThat(Probes.of(tag).started.await(10, TimeUnit.SECONDS)).isTrue();
					}
					Thread.sleep(150); // a slow client: longer than the detector's interval
				}
				RawHttp.Response response = connection.read();
				assertThat(response.status()).isEqualTo(200);
				assertThat(response.body()).isEqualTo(tag + ":" + size + ":none");
			}
		}

		@Test
		void aClientClosingAfterItsBodyWasReadIsGone() throws Exception {
			String tag = tag("posted");
			RawHttp connection = new RawHttp(this.port);
			connection.send("POST /echo?tag=" + tag + "&then=10000 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
					+ "Content-Length: 5\r\n\r\nhello");
			assertThat(closeWhileWaiting(connection, tag, 200)).isBetween(0L, 1000L);
		}

		@Test
		void aKeepAliveConnectionIsWatchedAgainForItsNextRequest() throws Exception {
			String first = tag("kept");
			String second = tag("next");
			RawHttp connection = new RawHttp(this.port);
			connection.send(connection.get("/wait?ms=300&tag=" + first));
			assertThat(connection.read().body()).isEqualTo(first + ":none");
			connection.send(connection.get("/wait?ms=10000&tag=" + second));
			assertThat(closeWhileWaiting(connection, second, 100)).isBetween(0L, 1000L);
		}

		@Test
		void aFastRequestIsNeverWatchedAndAnIdleKeepAliveCloseCancelsNothing() throws Exception {
			double before = clientGone();
			for (int i = 0; i < 20; i++) {
				try (RawHttp connection = new RawHttp(this.port)) {
					connection.send(connection.get("/wait?ms=0&tag=" + tag("fast")));
					assertThat(connection.read().status()).isEqualTo(200);
				}
			}
			assertThat(clientGone()).isEqualTo(before);
		}

	}

	@Nested
	@SpringBootTest(classes = ClientGoneApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "server.http2.enabled=true")
	class Http2Cleartext extends Base {

		@Test
		void aStreamTheClientResetsIsCancelled() throws Exception {
			HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
			URI base = URI.create("http://127.0.0.1:" + this.port);
			// The first request upgrades the connection to h2c; the next ones are streams on it.
			HttpResponse<String> upgrade = client.send(
					HttpRequest.newBuilder(base.resolve("/wait?ms=0&tag=" + tag("upgrade"))).build(),
					HttpResponse.BodyHandlers.ofString());
			assertThat(upgrade.version()).isEqualTo(HttpClient.Version.HTTP_2);
			String tag = tag("h2");
			CompletableFuture<HttpResponse<String>> call = client.sendAsync(
					HttpRequest.newBuilder(base.resolve("/wait?ms=10000&tag=" + tag)).build(),
					HttpResponse.BodyHandlers.ofString());
			Probe probe = Probes.of(tag);
			assertThat(probe.started.await(10, TimeUnit.SECONDS)).isTrue();
			long reset = System.nanoTime();
			call.cancel(true); // the client resets the stream
			assertThat(probe.outcome.get(5, TimeUnit.SECONDS)).isEqualTo("CLIENT_GONE");
			long millis = TimeUnit.NANOSECONDS.toMillis(probe.cancelledAt - reset);
			System.out.println("client-gone: h2c RST_STREAM to cancel " + millis + " ms");
			assertThat(millis).isBetween(0L, 1000L);
			// The connection and its other streams carry on.
			HttpResponse<String> after = client.send(
					HttpRequest.newBuilder(base.resolve("/wait?ms=0&tag=" + tag("after"))).build(),
					HttpResponse.BodyHandlers.ofString());
			assertThat(after.statusCode()).isEqualTo(200);
		}

	}

	@Nested
	@SpringBootTest(classes = ClientGoneApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "reqctx.web.detect-client-gone=false")
	class Off extends Base {

		@Test
		void aBlockingHandlerKeepsRunningAfterItsClientLeft() throws Exception {
			String tag = tag("off");
			RawHttp connection = new RawHttp(this.port);
			connection.send(connection.get("/wait?ms=1500&tag=" + tag));
			Probe probe = Probes.of(tag);
			assertThat(probe.started.await(10, TimeUnit.SECONDS)).isTrue();
			connection.close();
			assertThat(probe.outcome.get(10, TimeUnit.SECONDS)).isEqualTo("none");
		}

	}

	/** What a handler saw, by tag. */
	static final class Probe {

		final CountDownLatch started = new CountDownLatch(1);

		final CompletableFuture<String> outcome = new CompletableFuture<>();

		volatile long cancelledAt;

	}

	static final class Probes {

		private static final Map<String, Probe> PROBES = new ConcurrentHashMap<>();

		static Probe of(String tag) {
			return PROBES.computeIfAbsent(tag, (t) -> new Probe());
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(Handlers.class)
	static class ClientGoneApplication {

	}

	@RestController
	static class Handlers {

		private final JdbcTemplate jdbc;

		Handlers(JdbcTemplate jdbc) {
			this.jdbc = jdbc;
		}

		@GetMapping(path = "/sql/sleep", produces = "text/plain")
		String sleep(@RequestParam double seconds, @RequestParam String tag) {
			String comment = tag.replaceAll("[^A-Za-z0-9-]", "");
			this.jdbc.queryForObject("SELECT 1 FROM pg_sleep(?) /* " + comment + " */", Integer.class, seconds);
			return "slept";
		}

		@GetMapping(path = "/wait", produces = "text/plain")
		String waitForCancel(@RequestParam long ms, @RequestParam String tag) {
			return tag + ":" + waitForCancel(tag, ms);
		}

		@PostMapping(path = "/echo", produces = "text/plain")
		String echo(InputStream body, @RequestParam String tag, @RequestParam(defaultValue = "0") long then)
				throws IOException {
			Probe probe = Probes.of(tag);
			probe.started.countDown();
			AtomicInteger size = new AtomicInteger();
			byte[] buffer = new byte[8192];
			for (int n; (n = body.read(buffer)) >= 0;) {
				size.addAndGet(n);
			}
			return tag + ":" + size + ":" + waitForCancel(tag, then);
		}

		private static String waitForCancel(String tag, long ms) {
			Probe probe = Probes.of(tag);
			RequestContext context = RequestContext.current();
			CountDownLatch cancelled = new CountDownLatch(1);
			context.onCancel(() -> {
				if (probe.cancelledAt == 0) {
					probe.cancelledAt = System.nanoTime();
				}
				cancelled.countDown();
			});
			probe.started.countDown();
			String outcome;
			try {
				outcome = cancelled.await(ms, TimeUnit.MILLISECONDS) ? String.valueOf(context.cause()) : "none";
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				outcome = String.valueOf(context.cause());
			}
			probe.outcome.complete(outcome);
			return outcome;
		}

	}

}
