package dev.reqctx.task;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellableContext;
import dev.reqctx.ContextKey;
import dev.reqctx.ContextKind;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.Contexts;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Import;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.stereotype.Service;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A web application with {@code @Async} work, for tests of task propagation through Spring
 * Boot's own task executor.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@EnableAsync
@Import({ AsyncTestApplication.Worker.class, AsyncTestApplication.AsyncController.class })
public class AsyncTestApplication {

	static final ContextKey<String> TENANT = ContextKey.named("tenant");

	@Service
	static class Worker {

		/** What an async task sees of its context. */
		@Async
		public CompletableFuture<Map<String, Object>> view() {
			RequestContext ctx = RequestContext.current();
			CancellableContext task = Contexts.nearest(ctx, ContextKind.TASK);
			Map<String, Object> body = new LinkedHashMap<>();
			body.put("tenant", ctx.get(TENANT));
			body.put("requestId", ctx.get(StandardKeys.REQUEST_ID));
			body.put("remainingMs", TimeUnit.NANOSECONDS.toMillis(ctx.remainingNanos()));
			body.put("thread", Thread.currentThread().getName());
			body.put("inTask", task != null);
			return CompletableFuture.completedFuture(body);
		}

		/** Keeps running until its context is cancelled, the test releases it, or a minute passes. */
		@Async
		public void outlive(CountDownLatch started, CountDownLatch stopped, CountDownLatch release)
				throws InterruptedException {
			RequestContext.current().onCancel(release::countDown);
			started.countDown();
			release.await(60, TimeUnit.SECONDS);
			stopped.countDown();
		}

		/** Outlives its request, then fails as cancellable work does once it is cancelled. */
		@Async
		public void outliveAndFail(CountDownLatch started, CountDownLatch stopped) throws InterruptedException {
			RequestContext ctx = RequestContext.current();
			CountDownLatch cancelled = new CountDownLatch(1);
			ctx.onCancel(cancelled::countDown);
			started.countDown();
			try {
				cancelled.await(60, TimeUnit.SECONDS);
				ctx.throwIfCancelled();
			}
			finally {
				stopped.countDown();
			}
		}

	}

	@RestController
	@RequestMapping("/async")
	static class AsyncController {

		static volatile CountDownLatch orphanStarted = new CountDownLatch(1);

		static volatile CountDownLatch orphanStopped = new CountDownLatch(1);

		static volatile CountDownLatch orphanRelease = new CountDownLatch(1);

		private final Worker worker;

		AsyncController(Worker worker) {
			this.worker = worker;
		}

		@GetMapping("/view")
		Map<String, Object> view(@RequestHeader(name = "X-Tenant", required = false) String tenant) {
			RequestContext ctx = RequestContext.current();
			if (tenant != null) {
				ctx = ctx.withValue(TENANT, tenant);
			}
			try (Scope scope = ctx.attach()) {
				Map<String, Object> seen = this.worker.view().join();
				Map<String, Object> body = new LinkedHashMap<>();
				body.put("handlerTenant", TENANT.get());
				body.put("handlerRequestId", StandardKeys.REQUEST_ID.get());
				body.put("task", seen);
				return body;
			}
		}

		@GetMapping("/orphan")
		String orphan() throws InterruptedException {
			this.worker.outlive(orphanStarted, orphanStopped, orphanRelease);
			orphanStarted.await(10, TimeUnit.SECONDS);
			return "started";
		}

		@GetMapping("/orphan-that-fails")
		String orphanThatFails() throws InterruptedException {
			this.worker.outliveAndFail(orphanStarted, orphanStopped);
			orphanStarted.await(10, TimeUnit.SECONDS);
			return "started";
		}

		@GetMapping("/detached-orphan")
		String detachedOrphan() throws InterruptedException {
			try (Scope scope = RequestContext.current().detached().attach()) {
				this.worker.outlive(orphanStarted, orphanStopped, orphanRelease);
			}
			orphanStarted.await(10, TimeUnit.SECONDS);
			return "started";
		}

	}

}
