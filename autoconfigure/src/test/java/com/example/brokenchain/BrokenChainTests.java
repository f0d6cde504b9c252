package com.example.brokenchain;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.task.ContextExecutors;
import dev.reqctx.testsupport.PostgresServer;
import dev.reqctx.testsupport.TestHttp;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The broken-chain detector over HTTP, on PostgreSQL: a controller that hands its SQL to a raw
 * {@code Executors.newFixedThreadPool} is reported with its call site in
 * {@code /actuator/requestcontexts} and counted; the same through {@code ContextExecutors.wrap}
 * is not, nor is SQL run while no request is in flight. (In a package of its own: reqctx's
 * frames are never a call site.)
 */
@SpringBootTest(classes = BrokenChainTests.BrokenChainApplication.class,
		webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "spring.application.name=broken-chain-tests",
				"management.endpoints.web.exposure.include=requestcontexts" })
class BrokenChainTests {

	@DynamicPropertySource
	static void postgres(DynamicPropertyRegistry registry) {
		PostgresServer server = PostgresServer.get();
		registry.add("spring.datasource.url", server::jdbcUrl);
		registry.add("spring.datasource.username", server::username);
		registry.add("spring.datasource.password", server::password);
	}

	@LocalServerPort
	int port;

	@Autowired
	MeterRegistry meters;

	@Autowired
	JdbcTemplate jdbc;

	TestHttp http;

	@BeforeEach
	void setUp() {
		this.http = new TestHttp(this.port);
	}

	@Test
	void sqlHandedToARawPoolIsReportedWithItsCallSiteAndTheWrappedPoolIsNot() {
		// No request in flight: SQL off any request (start-up, this test's own) is not a broken chain.
		this.jdbc.queryForObject("SELECT 1", Integer.class);
		assertThat(unbound()).isEmpty();

		assertThat(this.http.get("/wrapped").status()).isEqualTo(200);
		assertThat(unbound()).as("the wrapped pool carries the context").isEmpty();
		assertThat(this.http.get("/detached").status()).isEqualTo(200);
		assertThat(unbound()).as("work detached on purpose is not a broken chain").isEmpty();

		assertThat(this.http.get("/raw").status()).isEqualTo(200);
		assertThat(this.http.get("/raw").status()).isEqualTo(200);
		JsonNode unbound = unbound();
		assertThat(unbound).hasSize(1);
		JsonNode site = unbound.get(0);
		assertThat(site.path("operation").asText()).isEqualTo("jdbc");
		assertThat(site.path("callSite").asText()).contains("com.example.brokenchain.BrokenChainTests$BrokenChainApplication$Orders.lambda$raw")
			.contains("BrokenChainTests.java:");
		assertThat(site.path("count").asLong()).isEqualTo(2);
		assertThat(site.path("thread").asText()).startsWith("raw-pool");
		assertThat(site.path("stack").toString()).contains("JdbcTemplate");
		Counter counter = this.meters.find("reqctx.operations.unbound").tag("operation", "jdbc").counter();
		assertThat(counter).isNotNull();
		assertThat(counter.count()).isEqualTo(2);
	}

	private JsonNode unbound() {
		return this.http.get("/actuator/requestcontexts").json().path("unbound");
	}

	@SpringBootApplication
	static class BrokenChainApplication {

		@RestController
		static class Orders {

			private final JdbcTemplate jdbc;

			private final ExecutorService raw = Executors.newFixedThreadPool(1, (task) -> new Thread(task, "raw-pool"));

			private final ExecutorService wrapped = ContextExecutors.wrap(Executors.newFixedThreadPool(1));

			Orders(JdbcTemplate jdbc) {
				this.jdbc = jdbc;
			}

			@GetMapping("/raw")
			Integer raw() throws Exception {
				return this.raw.submit(() -> this.jdbc.queryForObject("SELECT 1", Integer.class)).get(10, TimeUnit.SECONDS);
			}

			@GetMapping("/wrapped")
			Integer wrapped() throws Exception {
				return this.wrapped.submit(() -> this.jdbc.queryForObject("SELECT 1", Integer.class))
					.get(10, TimeUnit.SECONDS);
			}

			/** Hands the raw pool a detached context on purpose: audit work that must outlive the request. */
			@GetMapping("/detached")
			Integer detached() throws Exception {
				RequestContext detached = RequestContext.current().detached();
				return this.raw.submit(() -> {
					try (Scope scope = detached.attach()) {
						return this.jdbc.queryForObject("SELECT 1", Integer.class);
					}
				}).get(10, TimeUnit.SECONDS);
			}

			@PreDestroy
			void stop() {
				this.raw.shutdownNow();
				this.wrapped.shutdownNow();
			}

		}

	}

}
