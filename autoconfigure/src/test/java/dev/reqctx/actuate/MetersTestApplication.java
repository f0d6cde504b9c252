package dev.reqctx.actuate;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.reqctx.RequestContext;
import dev.reqctx.testsupport.AwaitCancel;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.stereotype.Service;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

/**
 * A web application whose requests end in each way the meters count: normally, at their
 * deadline, cancelled by an operator, leaving tasks behind, with an outbound call or a SQL
 * statement cut off.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@EnableAsync
@Import({ MetersTestApplication.Worker.class, MetersTestApplication.MetersController.class })
class MetersTestApplication {

	@Service
	static class Worker {

		/** Holds the (single) pool thread until its context is cancelled. */
		@Async
		public void holdThePool(CountDownLatch started) throws InterruptedException {
			CountDownLatch cancelled = new CountDownLatch(1);
			RequestContext.current().onCancel(cancelled::countDown);
			started.countDown();
			cancelled.await(30, TimeUnit.SECONDS);
		}

		/** Queued behind {@link #holdThePool}; must never run once its request is gone. */
		@Async
		public void queued(CountDownLatch ran) {
			ran.countDown();
		}

	}

	@RestController
	@RequestMapping("/m")
	static class MetersController {

		static final CountDownLatch queuedTaskRan = new CountDownLatch(1);

		private final Worker worker;

		private final RestClient backend;

		private final JdbcClient jdbc;

		MetersController(Worker worker, RestClient.Builder builder, @Value("${backend.url}") String backendUrl,
				JdbcClient jdbc) {
			this.worker = worker;
			this.backend = builder.baseUrl(backendUrl).build();
			this.jdbc = jdbc;
		}

		@GetMapping("/items/{id}")
		Map<String, String> item(@PathVariable String id) {
			return Map.of("id", id);
		}

		@GetMapping("/await-cancel")
		String awaitCancel() throws InterruptedException {
			RequestContext ctx = RequestContext.current();
			AwaitCancel.thenThrow(ctx);
			return "not cancelled";
		}

		/** Leaves two tasks behind: one running, one queued behind it on the single pool thread. */
		@GetMapping("/orphans")
		String orphans() throws InterruptedException {
			CountDownLatch started = new CountDownLatch(1);
			this.worker.holdThePool(started);
			this.worker.queued(queuedTaskRan);
			started.await(10, TimeUnit.SECONDS);
			return "left two tasks behind";
		}

		/** A statement that sleeps on the database for longer than any budget in the tests. */
		@GetMapping("/sql")
		String sql() {
			this.jdbc.sql("SELECT pg_sleep(20)").query().singleValue();
			return "slept";
		}

		/** Calls a backend that never answers. */
		@GetMapping("/call")
		String call() {
			return this.backend.get().uri("/slow").retrieve().body(String.class);
		}

	}

}
