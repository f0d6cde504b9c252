package dev.reqctx.examples.kafka;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.reqctx.CancellableContext;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.DeadlineExceededException;
import dev.reqctx.spi.Contexts;
import dev.reqctx.testsupport.PostgresServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.util.backoff.FixedBackOff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A {@code @KafkaListener} against an in-process Kafka broker (KRaft) and a real PostgreSQL:
 * each message runs in a root context of kind MESSAGE with the listener's 2 s deadline; a
 * message whose SQL would take 30 s is listed with its statement, has it cancelled on the
 * server at the deadline, and its failure reaches the container's error handler (the message
 * is not acknowledged as if it had been processed).
 */
@SpringBootTest(properties = "spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}")
@EmbeddedKafka(partitions = 1, topics = "orders")
class OrderListenerTests {

	@DynamicPropertySource
	static void postgres(DynamicPropertyRegistry registry) {
		PostgresServer server = PostgresServer.get();
		registry.add("spring.datasource.url", server::jdbcUrl);
		registry.add("spring.datasource.username", server::username);
		registry.add("spring.datasource.password", server::password);
	}

	final PostgresServer pg = PostgresServer.get();

	@Autowired
	KafkaTemplate<String, String> kafka;

	@Autowired
	OrderLog log;

	@Autowired
	ContextRuntime runtime;

	@Autowired
	MeterRegistry meters;

	@Autowired
	FailedOrders failed;

	@Test
	void eachOrderRunsInAMessageContextWithTheListenersDeadline() {
		String order = "fast-" + System.nanoTime();
		this.kafka.send("orders", order);
		await("the order recorded").atMost(Duration.ofSeconds(30))
			.until(() -> this.log.seen(order) != null && this.log.seen(order).recorded());
		assertThat(this.log.seen(order).remaining()).as("the listener's 2 s deadline")
			.isPositive()
			.isLessThanOrEqualTo(Duration.ofSeconds(2));
		await("the message counted").atMost(Duration.ofSeconds(10)).until(() -> count("COMPLETED") >= 1);
	}

	@Test
	void aSlowOrdersStatementIsCancelledAtTheDeadlineAndTheFailureReachesTheErrorHandler() {
		String order = "slow-" + System.nanoTime();
		this.kafka.send("orders", order);
		assertThat(this.pg.awaitActive("%" + order + "%", 1, Duration.ofSeconds(30))).isTrue();
		CancellableContext message = this.runtime.live().find(this.log.seen(order).contextId());
		if (message != null) { // it may end between the two reads on a slow machine
			assertThat(message.kind()).isEqualTo(ContextKind.MESSAGE);
			assertThat(Contexts.label(message)).hasToString("OrderListener.onOrder");
			assertThat(Contexts.tree(message).operations()).as("its statement in the live tree")
				.anySatisfy((op) -> assertThat(op.description()).contains(order));
		}
		assertThat(this.pg.awaitNoActive("%" + order + "%", Duration.ofSeconds(10)))
			.as("the statement was cancelled on the server at the 2 s deadline, not after 30 s").isTrue();
		await("the failure reached the error handler").atMost(Duration.ofSeconds(10))
			.until(() -> this.failed.failures.containsKey(order));
		assertThat(this.failed.failures.get(order)).hasStackTraceContaining(DeadlineExceededException.class.getName());
		assertThat(this.log.seen(order).recorded()).isFalse();
		await("the message counted").atMost(Duration.ofSeconds(10)).until(() -> count("DEADLINE_EXCEEDED") >= 1);
	}

	private double count(String outcome) {
		Timer timer = this.meters.find("reqctx.work")
			.tag("kind", "MESSAGE")
			.tag("name", "OrderListener.onOrder")
			.tag("outcome", outcome)
			.timer();
		return (timer != null) ? timer.count() : 0;
	}

	@TestConfiguration(proxyBeanMethods = false)
	static class ErrorHandling {

		@Bean
		FailedOrders failedOrders() {
			return new FailedOrders();
		}

		/** No retries: the first failure goes to the recoverer, which records it. */
		@Bean
		DefaultErrorHandler errorHandler(FailedOrders failed) {
			return new DefaultErrorHandler((record, ex) -> failed.failures.put(String.valueOf(record.value()), ex),
					new FixedBackOff(0L, 0L));
		}

	}

	static class FailedOrders {

		final Map<String, Exception> failures = new ConcurrentHashMap<>();

	}

}
