package dev.reqctx.sample;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Async;
import org.springframework.stereotype.Service;

/**
 * {@code @Async} work for the fan-out and orphan demos; each task sleeps in SQL.
 */
@Service
class DemoTasks {

	private static final Logger LOGGER = LoggerFactory.getLogger(DemoTasks.class);

	private final JdbcClient jdbc;

	private final SleepQuery sleepQuery;

	DemoTasks(JdbcClient jdbc, SleepQuery sleepQuery) {
		this.jdbc = jdbc;
		this.sleepQuery = sleepQuery;
	}

	/** Sleeps in SQL and reports what the task saw of its context when it started. */
	@Async
	public CompletableFuture<Map<String, Object>> sleep(int index, double seconds) {
		RequestContext ctx = RequestContext.current();
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("task", index);
		view.put("requestId", ctx.get(StandardKeys.REQUEST_ID));
		view.put("remainingMs", ctx.remaining().map((d) -> d.toMillis()).orElse(null));
		view.put("thread", Thread.currentThread().getName());
		LOGGER.info("Task {} sleeps {} s in SQL", index, seconds);
		this.jdbc.sql(this.sleepQuery.sql()).param(seconds).query(Integer.class).single();
		return CompletableFuture.completedFuture(view);
	}

	/** Sleeps in SQL; started by a request that does not wait for it. */
	@Async
	public void sleepAfterTheRequest(double seconds) {
		LOGGER.info("Orphan task sleeps {} s in SQL", seconds);
		this.jdbc.sql(this.sleepQuery.sql()).param(seconds).query(Integer.class).single();
	}

}
