package dev.reqctx.test;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The application of this module's Spring tests: a controller that reports its context and one
 * that waits until its context is cancelled.
 */
@SpringBootApplication
public class SliceTestApplication {

	@RestController
	static class ContextController {

		@GetMapping("/context")
		Map<String, Object> context() {
			RequestContext ctx = RequestContext.current();
			return Map.of("requestId", String.valueOf(ctx.get(StandardKeys.REQUEST_ID)), "remainingMs",
					ctx.remaining().map((left) -> left.toMillis()).orElse(-1L));
		}

		/** Blocks like a slow query would, until the request's context is cancelled. */
		@GetMapping("/wait")
		String waitForCancel() throws InterruptedException {
			RequestContext ctx = RequestContext.current();
			CountDownLatch cancelled = new CountDownLatch(1);
			ctx.onCancel(cancelled::countDown);
			if (!cancelled.await(30, TimeUnit.SECONDS)) {
				return "never cancelled";
			}
			ctx.throwIfCancelled();
			return "unreachable";
		}

	}

}
