package dev.reqctx.examples.jpa;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring Data JPA application on PostgreSQL whose requests reserve stock under a row lock.
 * When another transaction holds the row, a request waits in the repository call, deep in
 * Hibernate and the driver; {@code /actuator/requestcontexts/{id}} shows where, with this
 * application's own frames kept among the framework's, and the request's deadline cancels the
 * waiting statement on the database.
 *
 * <p>Run it with {@code --spring.datasource.url=jdbc:postgresql://localhost:5432/shop} (and
 * {@code spring.datasource.username} / {@code password}); it creates its table on start-up.
 */
@SpringBootApplication
public class DataJpaApplication {

	public static void main(String[] args) {
		SpringApplication.run(DataJpaApplication.class, args);
	}

}
