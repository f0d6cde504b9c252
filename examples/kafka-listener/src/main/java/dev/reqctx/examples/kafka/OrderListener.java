package dev.reqctx.examples.kafka;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * Records each order it takes; an order named {@code slow-…} stands for one whose SQL waits
 * far longer than the listener's deadline allows.
 */
@Component
public class OrderListener {

	private final JdbcTemplate jdbc;

	private final OrderLog log;

	OrderListener(JdbcTemplate jdbc, OrderLog log) {
		this.jdbc = jdbc;
		this.log = log;
	}

	@KafkaListener(topics = "orders")
	public void onOrder(String order) {
		this.log.taken(order);
		if (order.startsWith("slow-")) {
			String tag = order.replaceAll("[^A-Za-z0-9-]", "");
			this.jdbc.queryForObject("SELECT 1 FROM pg_sleep(30) /* " + tag + " */", Integer.class);
		}
		else {
			this.jdbc.queryForObject("SELECT 1", Integer.class);
		}
		this.log.recorded(order);
	}

}
