package dev.reqctx.monitoring;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import dev.reqctx.RequestContext;
import dev.reqctx.testsupport.AwaitCancel;
import jakarta.annotation.PreDestroy;
import jakarta.servlet.http.HttpServletRequest;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

/**
 * An application whose work moves every reqctx meter, so that a scrape of its
 * {@code /actuator/prometheus} shows each metric family and label the rules and the dashboard
 * use: SQL under a deadline and cut off at it, an outbound call aborted at it, a task that
 * outlives its request, a task that ignores its cancel (a straggler), SQL on a thread reqctx does
 * not know (a broken chain), a scheduled job.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@EnableAsync
@EnableScheduling
@Import({ ScrapedApplication.Endpoints.class, ScrapedApplication.Worker.class, ScrapedApplication.Jobs.class })
class ScrapedApplication {

	@RestController
	@RequestMapping("/m")
	static class Endpoints {

		private final JdbcClient jdbc;

		private final Worker worker;

		private final RestClient client;

		/** A pool reqctx does not wrap: what runs on it has no context. */
		private final ExecutorService raw = Executors.newSingleThreadExecutor((task) -> new Thread(task, "raw-pool"));

		Endpoints(JdbcClient jdbc, Worker worker, RestClient.Builder client) {
			this.jdbc = jdbc;
			this.worker = worker;
			this.client = client.build();
		}

		/** A statement that starts under the request's deadline and finishes. */
		@GetMapping("/ok")
		String ok() {
			return String.valueOf(this.jdbc.sql("SELECT 1").query(Integer.class).single());
		}

		/** A statement that outlasts any budget the test sends: cancelled at the deadline. */
		@GetMapping("/sql")
		String sql() {
			return String.valueOf(this.jdbc.sql("SELECT SLEEP_MS(20000)").query(Integer.class).single());
		}

		/** An outbound call to {@link #hang} on this server: aborted at the deadline. */
		@GetMapping("/call")
		String call(HttpServletRequest request) {
			return this.client.get()
				.uri("http://127.0.0.1:{port}/m/hang", request.getLocalPort())
				.retrieve()
				.body(String.class);
		}

		/** Answers only when its request is cancelled. */
		@GetMapping("/hang")
		String hang() throws InterruptedException {
			AwaitCancel.thenThrow(RequestContext.current());
			return "not cancelled";
		}

		/** Returns at once, leaving a task behind that waits for its cancel. */
		@GetMapping("/orphan")
		String orphan() {
			this.worker.outliveTheRequest();
			return "left a task behind";
		}

		/** Starts a task that ignores its cancel for a second, then waits for its own deadline. */
		@GetMapping("/stubborn")
		String stubborn() throws InterruptedException {
			this.worker.ignoreTheCancelFor(Duration.ofSeconds(1));
			AwaitCancel.thenThrow(RequestContext.current());
			return "not cancelled";
		}

		/** Runs its SQL on the raw pool, where the request's context does not follow. */
		@GetMapping("/unbound")
		String unbound() throws Exception {
			return String.valueOf(this.raw.submit(() -> this.jdbc.sql("SELECT 1").query(Integer.class).single())
				.get(10, TimeUnit.SECONDS));
		}

		@PreDestroy
		void stop() {
			this.raw.shutdownNow();
		}

	}

	@Component
	static class Worker {

		@Async
		public void outliveTheRequest() {
			try {
				AwaitCancel.until(RequestContext.current());
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

		/** Keeps running when cancelled, as code that swallows interrupts does. */
		@Async
		public void ignoreTheCancelFor(Duration duration) {
			long end = System.nanoTime() + duration.toNanos();
			while (System.nanoTime() - end < 0) {
				try {
					Thread.sleep(10);
				}
				catch (InterruptedException ex) {
					// Swallowed on purpose: this task is the straggler.
				}
			}
		}

	}

	@Component
	static class Jobs {

		private final JdbcClient jdbc;

		Jobs(JdbcClient jdbc) {
			this.jdbc = jdbc;
		}

		/** Runs once at start-up (and hourly after): one finished JOB. */
		@Scheduled(fixedDelay = 1, timeUnit = TimeUnit.HOURS)
		public void tick() {
			this.jdbc.sql("SELECT 1").query(Integer.class).single();
		}

	}

}
