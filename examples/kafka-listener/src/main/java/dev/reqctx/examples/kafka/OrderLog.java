package dev.reqctx.examples.kafka;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.reqctx.RequestContext;

import org.springframework.stereotype.Component;

/**
 * What the listener saw of each order: the context it ran in, and whether it got to record it.
 */
@Component
public class OrderLog {

	private final Map<String, Seen> seen = new ConcurrentHashMap<>();

	void taken(String order) {
		RequestContext ctx = RequestContext.current();
		this.seen.put(order, new Seen(ctx.id(), ctx.remaining().orElse(null), false));
	}

	void recorded(String order) {
		this.seen.computeIfPresent(order, (key, seen) -> new Seen(seen.contextId(), seen.remaining(), true));
	}

	/**
	 * Returns what the listener saw of an order.
	 * @param order the order
	 * @return what it saw, or {@code null} if it has not taken the order yet
	 */
	public Seen seen(String order) {
		return this.seen.get(order);
	}

	/**
	 * The listener's view of one order.
	 * @param contextId the id of the context it ran in
	 * @param remaining the budget it had when it started
	 * @param recorded whether it finished
	 */
	public record Seen(String contextId, Duration remaining, boolean recorded) {
	}

}
