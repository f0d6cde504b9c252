package dev.reqctx.sample;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.reqctx.ContextKey;
import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The demo endpoints. Every answer includes the request id as the handler saw it.
 */
@RestController
@RequestMapping("/demo")
class DemoController {

	/** A value carried by the context, copied from the {@code X-Tenant} header by {@code /demo/echo}. */
	static final ContextKey<String> TENANT = ContextKey.named("tenant");

	private final JdbcClient jdbc;

	private final SleepQuery sleepQuery;

	DemoController(JdbcClient jdbc, SleepQuery sleepQuery) {
		this.jdbc = jdbc;
		this.sleepQuery = sleepQuery;
	}

	/** One SQL statement that sleeps on the database. */
	@GetMapping("/sleep")
	ResponseEntity<Map<String, Object>> sleep(@RequestParam(defaultValue = "1") double seconds) {
		if (!(seconds >= 0 && seconds <= 3600)) {
			return badRequest("seconds must be between 0 and 3600");
		}
		long start = System.nanoTime();
		this.jdbc.sql(this.sleepQuery.sql()).param(seconds).query(Integer.class).single();
		Map<String, Object> body = base();
		body.put("sleptMs", (System.nanoTime() - start) / 1_000_000);
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
