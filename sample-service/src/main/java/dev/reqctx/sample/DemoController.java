package dev.reqctx.sample;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import dev.reqctx.ContextKey;
import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

/**
 * The demo endpoints. Every answer includes the request id as the handler saw it.
 */
@RestController
@RequestMapping("/demo")
class DemoController {

	private static final Logger LOGGER = LoggerFactory.getLogger(DemoController.class);

	/** A value carried by the context, copied from the {@code X-Tenant} header by {@code /demo/echo}. */
	static final ContextKey<String> TENANT = ContextKey.named("tenant");

	private final JdbcClient jdbc;

	private final SleepQuery sleepQuery;

	private final DemoTasks tasks;

	private final RestClient self;

	DemoController(JdbcClient jdbc, SleepQuery sleepQuery, DemoTasks tasks, RestClient.Builder restClient) {
		this.jdbc = jdbc;
		this.sleepQuery = sleepQuery;
		this.tasks = tasks;
		this.self = restClient.build();
	}

	/** One SQL statement that sleeps on the database. */
	@GetMapping("/sleep")
	ResponseEntity<Map<String, Object>> sleep(@RequestParam(defaultValue = "1") double seconds) {
		if (!(seconds >= 0 && seconds <= 3600)) {
			return badRequest("seconds must be between 0 and 3600");
		}
		long start = System.nanoTime();
		LOGGER.info("Sleeping {} s in SQL", seconds);
		this.jdbc.sql(this.sleepQuery.sql()).param(seconds).query(Integer.class).single();
		Map<String, Object> body = base();
		body.put("sleptMs", (System.nanoTime() - start) / 1_000_000);
		return ResponseEntity.ok(body);
	}

	/**
	 * Calls itself through RestClient {@code depth} times; the last hop sleeps in SQL. Each hop
	 * reports the budget it saw, so the shrinking budget is visible.
	 */
	@GetMapping("/chain")
	ResponseEntity<Map<String, Object>> chain(@RequestParam(defaultValue = "2") int depth,
			@RequestParam(defaultValue = "1") double seconds, HttpServletRequest request) {
		if (depth < 0 || depth > 10 || !(seconds >= 0 && seconds <= 3600)) {
			return badRequest("depth must be 0 to 10 and seconds 0 to 3600");
		}
		Map<String, Object> body = base();
		body.put("depth", depth);
		if (depth == 0) {
			this.jdbc.sql(this.sleepQuery.sql()).param(seconds).query(Integer.class).single();
			return ResponseEntity.ok(body);
		}
		@SuppressWarnings("unchecked")
		Map<String, Object> next = this.self.get()
			.uri("http://127.0.0.1:{port}/demo/chain?depth={depth}&seconds={seconds}", request.getLocalPort(),
					depth - 1, seconds)
			.retrieve()
			.body(Map.class);
		body.put("next", next);
		return ResponseEntity.ok(body);
	}

	/** Runs {@code tasks} {@code @Async} SQL sleeps in parallel under this request's budget and joins them. */
	@GetMapping("/fanout")
	ResponseEntity<Map<String, Object>> fanout(@RequestParam(defaultValue = "3") int tasks,
			@RequestParam(defaultValue = "1") double seconds) {
		if (tasks < 1 || tasks > 50 || !(seconds >= 0 && seconds <= 3600)) {
			return badRequest("tasks must be 1 to 50 and seconds 0 to 3600");
		}
		List<CompletableFuture<Map<String, Object>>> futures = new ArrayList<>();
		for (int i = 0; i < tasks; i++) {
			futures.add(this.tasks.sleep(i, seconds));
		}
		List<Map<String, Object>> views = new ArrayList<>();
		for (CompletableFuture<Map<String, Object>> future : futures) {
			try {
				views.add(future.join());
			}
			catch (CompletionException ex) {
				throw (ex.getCause() instanceof RuntimeException re) ? re : ex;
			}
		}
		Map<String, Object> body = base();
		body.put("tasks", views);
		return ResponseEntity.ok(body);
	}

	/** Starts an SQL sleep that outlives the request on purpose, to show leak detection. */
	@GetMapping("/orphan")
	ResponseEntity<Map<String, Object>> orphan(@RequestParam(defaultValue = "5") double seconds) {
		if (!(seconds >= 0 && seconds <= 3600)) {
			return badRequest("seconds must be between 0 and 3600");
		}
		this.tasks.sleepAfterTheRequest(seconds);
		Map<String, Object> body = base();
		body.put("started", "a task that sleeps " + seconds + " s in SQL and outlives this request");
		return ResponseEntity.ok(body);
	}

	/** A fast query, to check the pool is healthy. */
	@GetMapping("/orders")
	Map<String, Object> orders() {
		List<Map<String, Object>> orders = this.jdbc.sql("SELECT id, customer, total FROM orders ORDER BY id")
			.query()
			.listOfRows();
		Map<String, Object> body = base();
		body.put("orders", orders);
		return body;
	}

	/**
	 * The trivial endpoint for overhead measurements: answers the same body whether reqctx is on
	 * or off, so a load test compares the cost of reqctx and nothing else.
	 */
	@GetMapping("/ping")
	Map<String, Object> ping() {
		return Map.of("ok", true);
	}

	/** What the handler sees of its context. */
	@GetMapping("/echo")
	Map<String, Object> echo(@RequestHeader(name = "X-Tenant", required = false) String tenant) {
		RequestContext ctx = RequestContext.current();
		if (tenant != null) {
			ctx = ctx.withValue(TENANT, tenant);
		}
		Map<String, Object> body = base();
		body.put("contextId", ctx.id());
		body.put("tenant", ctx.get(TENANT));
		body.put("values", ctx.values().keySet().stream().map(ContextKey::name).sorted().toList());
		return body;
	}

	private static Map<String, Object> base() {
		RequestContext ctx = RequestContext.current();
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("requestId", ctx.get(StandardKeys.REQUEST_ID));
		body.put("remainingMs", ctx.remaining().map((d) -> d.toMillis()).orElse(null));
		return body;
	}

	private static ResponseEntity<Map<String, Object>> badRequest(String detail) {
		Map<String, Object> body = base();
		body.put("error", detail);
		return ResponseEntity.status(HttpStatus.BAD_REQUEST).body(body);
	}

}
