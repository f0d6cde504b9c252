package dev.reqctx.testsupport;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.reqctx.RequestContext;

/**
 * Work for test handlers that runs until its context is cancelled, like a long query would.
 */
public final class AwaitCancel {

	private AwaitCancel() {
	}

	/**
	 * Waits (at most 20 s) until the given context is cancelled.
	 * @param ctx the context
	 * @throws InterruptedException if interrupted while waiting
	 */
	public static void until(RequestContext ctx) throws InterruptedException {
		CountDownLatch cancelled = new CountDownLatch(1);
		ctx.onCancel(cancelled::countDown);
		cancelled.await(20, TimeUnit.SECONDS);
	}

	/**
	 * Waits until the given context is cancelled, then fails as cancellable work does.
	 * @param ctx the context
	 * @throws InterruptedException if interrupted while waiting
	 */
	public static void thenThrow(RequestContext ctx) throws InterruptedException {
		until(ctx);
		ctx.throwIfCancelled();
	}

}
