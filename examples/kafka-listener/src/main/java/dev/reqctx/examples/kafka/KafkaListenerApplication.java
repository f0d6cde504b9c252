package dev.reqctx.examples.kafka;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * An application that takes orders from Kafka and records them in PostgreSQL. reqctx gives each
 * message a root context (kind MESSAGE) with the deadline of
 * {@code reqctx.messaging.timeouts[OrderListener.onOrder]}.
 */
@SpringBootApplication
public class KafkaListenerApplication {

	public static void main(String[] args) {
		SpringApplication.run(KafkaListenerApplication.class, args);
	}

}
