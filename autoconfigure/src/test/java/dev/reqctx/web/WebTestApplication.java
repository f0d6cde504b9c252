package dev.reqctx.web;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextKey;
import dev.reqctx.ContextKind;
import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.Contexts;
import dev.reqctx.testsupport.AwaitCancel;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.async.DeferredResult;

/**
 * A web application for tests of the filter and the endpoint: handlers that report what they
 * see of their context, wait for cancellation, fail, and go async.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({ WebTestApplication.TestController.class, WebTestApplication.CatchAllAdvice.class })
public class WebTestApplication {

	static final ContextKey<String> TENANT = ContextKey.named("tenant");

	@RestController
	@RequestMapping("/test")
	static class TestController {

		/** What the handler sees of its context. */
		@GetMapping({ "/echo", "/slow/echo" })
		Map<String, Object> echo() {
			RequestContext ctx = RequestContext.current();
			Map<String, Object> body = new LinkedHashMap<>();
			body.put("contextId", ctx.id());
			body.put("requestId", ctx.get(StandardKeys.REQUEST_ID));
			body.put("tenant", ctx.get(TENANT));
			body.put("remainingMs", ctx.remaining().map(Duration::toMillis).orElse(null));
			body.put("thread", Thread.currentThread().getName());
			return body;
		}

		/** A sloppy handler: binds a value and never closes the scope. */
		@GetMapping("/leak")
		Map<String, Object> leak(@RequestHeader("X-Tenant") String tenant) {
			RequestContext.current().withValue(TENANT, tenant).attach();
			return echo();
		}

		/**
		 * Work that runs until its context is cancelled, then fails like cancellable work does.
		 * With an {@code X-Tenant} header, the work runs in a child context carrying the tenant.
		 */
		@GetMapping("/await-cancel")
		Map<String, Object> awaitCancel(@RequestHeader(name = "X-Tenant", required = false) String tenant)
				throws InterruptedException {
			RequestContext ctx = RequestContext.current();
			CancellableContext child = (tenant != null)
					? Contexts.newChild(ctx.withValue(TENANT, tenant), ContextKind.TASK, "tenant-work", null) : null;
			try {
				AwaitCancel.thenThrow(ctx);
				return echo();
			}
			finally {
				if (child != null) {
					child.close();
				}
			}
		}

		/** Fails with an unrelated exception after its context was cancelled (like a driver's error). */
		@GetMapping("/fail-after-cancel")
		Map<String, Object> failAfterCancel() throws InterruptedException {
			RequestContext ctx = RequestContext.current();
			AwaitCancel.until(ctx);
			throw new IllegalStateException("canceling statement due to user request");
		}

		/** Fails with an exception no advice handles, so the container's error page answers. */
		@GetMapping("/boom")
		String boom() throws java.io.IOException {
			throw new java.io.IOException("boom");
		}

		@GetMapping("/async")
		Callable<Map<String, Object>> async() {
			return this::echo;
		}

		@GetMapping("/async-await-cancel")
		Callable<Map<String, Object>> asyncAwaitCancel() {
			return () -> awaitCancel(null);
		}

		@GetMapping("/async-never")
		DeferredResult<String> asyncNever() {
			return new DeferredResult<>(200L);
		}

		@GetMapping("/self-cancel")
		String selfCancel() {
			RequestContext ctx = RequestContext.current();
			Contexts.nearest(ctx, ContextKind.REQUEST).cancel(CancellationCause.CANCELLED);
			ctx.throwIfCancelled();
			return "unreachable";
		}

	}

	/** A generic handler like many applications have; it must not hide cancellations. */
	@RestControllerAdvice
	static class CatchAllAdvice {

		@ExceptionHandler({ IllegalStateException.class, IllegalArgumentException.class })
		org.springframework.http.ResponseEntity<String> handle(RuntimeException ex) {
			return org.springframework.http.ResponseEntity.status(500).body("generic handler: " + ex.getMessage());
		}

	}

}
