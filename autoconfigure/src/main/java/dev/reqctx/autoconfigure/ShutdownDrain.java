package dev.reqctx.autoconfigure;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextRuntime;
import dev.reqctx.RequestContext;
import dev.reqctx.spi.Contexts;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.ApplicationListener;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.ContextClosedEvent;

/**
 * Ends in-flight work cleanly when the application shuts down. When the context starts to
 * close, before the web server stops taking requests, it schedules the cancellation of every
 * live root (requests, jobs, units of work) with {@link CancellationCause#SHUTDOWN} a margin
 * before the end of the shutdown grace period: the work's SQL is cancelled and its request
 * answered (503) while the container still waits for it, instead of being killed mid-statement
 * when the grace period ends. Whatever is still live when the context is destroyed is cancelled
 * then. With an immediate (not graceful) shutdown, in-flight work is cancelled at once.
 */
final class ShutdownDrain implements SmartLifecycle, DisposableBean, ApplicationListener<ContextClosedEvent> {

	private static final Logger LOGGER = System.getLogger(ShutdownDrain.class.getName());

	/** Labels listed in the log line, at most. */
	private static final int LISTED = 10;

	private final ContextRuntime runtime;

	private final @Nullable Duration grace;

	private final Duration margin;

	private volatile boolean running;

	/**
	 * Set when the context starts to close. A context can also be stopped and started again
	 * without closing (Spring's test framework pauses cached contexts that way): that is no
	 * shutdown, and in-flight work must not be cancelled for it.
	 */
	private volatile boolean closing;

	/** Fires the cancellation at its deadline, on reqctx's deadline timer. */
	private volatile @Nullable CancellableContext timer;

	/**
	 * Creates the drain.
	 * @param runtime the application's runtime
	 * @param grace the grace period of a graceful shutdown, or {@code null} for an immediate one
	 * @param margin how long before the end of the grace period to cancel
	 */
	ShutdownDrain(ContextRuntime runtime, @Nullable Duration grace, Duration margin) {
		this.runtime = runtime;
		this.grace = grace;
		this.margin = margin;
	}

	@Override
	public void onApplicationEvent(ContextClosedEvent event) {
		this.closing = true;
	}

	@Override
	public void start() {
		this.running = true;
		CancellableContext timer = this.timer;
		if (timer != null) {
			timer.close(); // started again: whatever stopped it was not a shutdown
			this.timer = null;
		}
	}

	@Override
	public void stop() {
		this.running = false;
		if (!this.closing) {
			return; // stopped, not closing: a pause, not a shutdown
		}
		Duration grace = this.grace;
		if (grace == null) {
			cancelLive("the shutdown is immediate (server.shutdown=immediate)");
			return;
		}
		Duration after = cancelAfter(grace, this.margin);
		int live = this.runtime.live().size();
		if (live > 0) {
			LOGGER.log(Level.INFO, "Shutting down: " + live + " request(s) and other work still running will be "
					+ "cancelled (SHUTDOWN) in " + after.toMillis() + " ms unless they end first, "
					+ this.margin.toMillis() + " ms before spring.lifecycle.timeout-per-shutdown-phase (" + grace.toMillis()
					+ " ms) runs out");
		}
		CancellableContext timer = RequestContext.root().withTimeout(after);
		timer.onCancel(() -> {
			if (timer.cause() == CancellationCause.DEADLINE_EXCEEDED) {
				cancelLive("the shutdown grace period is about to end");
			}
		});
		this.timer = timer;
	}

	/** The cancel comes {@code margin} before the grace period ends, but never in its first half. */
	static Duration cancelAfter(Duration grace, Duration margin) {
		Duration half = grace.dividedBy(2);
		Duration after = grace.minus(margin);
		return (after.compareTo(half) < 0) ? half : after;
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/** Stops first: while the web server still waits for its requests, not after it gave up. */
	@Override
	public int getPhase() {
		return Integer.MAX_VALUE;
	}

	@Override
	public void destroy() {
		CancellableContext timer = this.timer;
		if (timer != null) {
			timer.close();
		}
		cancelLive("the application context is closed");
	}

	private void cancelLive(String why) {
		List<CancellableContext> live = this.runtime.live().list();
		if (live.isEmpty()) {
			return;
		}
		for (CancellableContext ctx : live) {
			ctx.cancel(CancellationCause.SHUTDOWN);
		}
		String listed = live.stream()
			.limit(LISTED)
			.map((ctx) -> ctx.kind() + " " + Contexts.label(ctx) + " (" + ctx.id() + ")")
			.collect(Collectors.joining(", "));
		LOGGER.log(Level.WARNING, "Cancelled " + live.size() + " unit(s) of work still running because " + why + ": "
				+ listed + ((live.size() > LISTED) ? ", …" : ""));
	}

}
