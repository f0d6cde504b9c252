package dev.reqctx.jdbc;

import java.util.Map;

import dev.reqctx.testsupport.PostgresServer;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * A web application on PostgreSQL for tests of JDBC cancellation over HTTP: a handler that
 * sleeps in SQL and one that answers at once.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import(JdbcWebTestApplication.SqlController.class)
public class JdbcWebTestApplication {

	/** Points the application's data source at the test PostgreSQL server. */
	static void postgres(DynamicPropertyRegistry registry) {
		PostgresServer pg = PostgresServer.get();
		registry.add("spring.datasource.url", pg::jdbcUrl);
		registry.add("spring.datasource.username", pg::username);
		registry.add("spring.datasource.password", pg::password);
		registry.add("spring.datasource.hikari.maximum-pool-size", () -> "5");
		registry.add("management.endpoints.web.exposure.include", () -> "requestcontexts");
		registry.add("management.endpoint.requestcontexts.access", () -> "unrestricted");
	}

	@RestController
	@RequestMapping("/sql")
	static class SqlController {

		private final JdbcTemplate jdbc;

		SqlController(JdbcTemplate jdbc) {
			this.jdbc = jdbc;
		}

		/** One statement that sleeps on the server; {@code tag} makes its text unique. */
		@GetMapping("/sleep")
		Map<String, Object> sleep(@RequestParam double seconds, @RequestParam String tag) {
			String comment = tag.replaceAll("[^A-Za-z0-9-]", "");
			this.jdbc.queryForObject("SELECT 1 FROM pg_sleep(?) /* " + comment + " */", Integer.class, seconds);
			return Map.of("slept", seconds);
		}

		@GetMapping("/fast")
		Map<String, Object> fast() {
			return Map.of("answer", this.jdbc.queryForObject("SELECT 42", Integer.class));
		}

	}

}
