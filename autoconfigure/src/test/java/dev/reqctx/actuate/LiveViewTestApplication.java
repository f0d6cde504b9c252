package dev.reqctx.actuate;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.reqctx.CancellableContext;
import dev.reqctx.ContextKey;
import dev.reqctx.ContextKind;
import dev.reqctx.RequestContext;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.Operation;
import dev.reqctx.testsupport.AwaitCancel;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Import;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.stereotype.Service;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * A web application for the live view's browser tests: requests that work until they are
 * cancelled (with a task and an operation whose names come from headers, so a test can put
 * markup in them), one whose operation ignores the cancel, one that leaves a task behind, and
 * the live view's page served against a fixed JSON document.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@EnableAsync
@Import({ LiveViewTestApplication.LiveController.class, LiveViewTestApplication.Worker.class,
		LiveViewTestApplication.FixtureController.class })
class LiveViewTestApplication {

	static final ContextKey<String> TENANT = ContextKey.named("tenant");

	@RestController
	static class LiveController {

		/** Released by the test: the straggler's work returns only then. */
		static volatile CountDownLatch stragglerRelease = new CountDownLatch(1);

		private final Worker worker;

		LiveController(Worker worker) {
			this.worker = worker;
		}

		/** Works until cancelled, in a task holding an operation, as a handler waiting on SQL does. */
		@GetMapping("/live/**")
		String work(@RequestHeader(name = "X-Task-Name", defaultValue = "render-invoice") String taskName,
				@RequestHeader(name = "X-Operation", defaultValue = "SELECT * FROM invoices FOR UPDATE") String operation,
				@RequestHeader(name = "X-Tenant", defaultValue = "acme") String tenant) throws InterruptedException {
			RequestContext ctx = RequestContext.current();
			CancellableContext task = Contexts.newChild(ctx.withValue(TENANT, tenant), ContextKind.TASK, taskName,
					null);
			Contexts.runningOn(task, Thread.currentThread());
			try (Operation op = Contexts.startOperation(task, "jdbc", operation, null)) {
				// Longer than AwaitCancel's 20 s: a browser on two busy cores can take that to start.
				CountDownLatch cancelled = new CountDownLatch(1);
				ctx.onCancel(cancelled::countDown);
				cancelled.await(60, TimeUnit.SECONDS);
				ctx.throwIfCancelled();
				return "not cancelled";
			}
			finally {
				task.close();
			}
		}

		/** Its operation does not stop when cancelled, like a driver that loses the cancel. */
		@GetMapping("/straggler")
		String straggler() throws InterruptedException {
			RequestContext ctx = RequestContext.current();
			try (Operation op = Contexts.startOperation(ctx, "http", "GET http://ledger.internal/balances", null)) {
				stragglerRelease.await(60, TimeUnit.SECONDS);
				return "returned";
			}
		}

		/** Leaves a task behind: it is still waiting when the request ends. */
		@GetMapping("/orphan")
		String orphan() throws InterruptedException {
			CountDownLatch started = new CountDownLatch(1);
			this.worker.awaitCancel(started);
			started.await(10, TimeUnit.SECONDS);
			return "left a task behind";
		}

	}

	@Service
	static class Worker {

		@Async
		public void awaitCancel(CountDownLatch started) throws InterruptedException {
			RequestContext ctx = RequestContext.current();
			started.countDown();
			AwaitCancel.until(ctx);
		}

	}

	/**
	 * The live view's page at {@code /fixture/live-view}, reading a fixed JSON document from the
	 * same path that has a context in every state. The second and later reads answer 401, as
	 * after a session expired.
	 */
	@RestController
	static class FixtureController {

		final AtomicInteger jsonAnswers = new AtomicInteger();

		private final LiveViewPage page = LiveViewPage.load();

		@GetMapping(path = "/fixture/live-view", produces = MediaType.TEXT_HTML_VALUE)
		ResponseEntity<String> page() {
			return ResponseEntity.ok()
				.header("Content-Security-Policy", this.page.contentSecurityPolicy())
				.body(this.page.html());
		}

		@GetMapping(path = "/fixture/live-view", produces = MediaType.APPLICATION_JSON_VALUE)
		ResponseEntity<String> json() throws IOException {
			if (this.jsonAnswers.getAndIncrement() > 0) {
				return ResponseEntity.status(401).build();
			}
			try (InputStream in = LiveViewTestApplication.class.getResourceAsStream("live-view-fixture.json")) {
				return ResponseEntity.ok()
					.contentType(MediaType.APPLICATION_JSON)
					.body(new String(in.readAllBytes(), StandardCharsets.UTF_8));
			}
		}

	}

}
