package dev.reqctx.examples.jpa;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.reqctx.ContextRuntime;
import dev.reqctx.testsupport.PostgresServer;
import dev.reqctx.testsupport.TestHttp;
import dev.reqctx.testsupport.TestHttp.Response;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A request that waits on a row lock in a Spring Data JPA repository call, on a real PostgreSQL
 * and over real HTTP: {@code /actuator/requestcontexts/{id}} shows the application's controller
 * and service, and what the service called, among well over a hundred framework frames, which
 * the old 64-frame cut hid entirely; the request's deadline then cancels the waiting statement.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "server.address=127.0.0.1")
class DataJpaStackTests {

	/** Hibernate's locking select, as {@code pg_stat_activity} shows it while it waits. */
	private static final String LOCKING_SELECT = "%from stock%for no key update%";

	/** Frames of this application's classes (not of its generated proxies). */
	private static final String APPLICATION_FRAME = "(app//)?dev\\.reqctx\\.examples\\.jpa\\.[A-Za-z]+\\.\\w+\\(.*";

	/** The length at which the endpoint used to cut the stack. */
	private static final int OLD_CUT = 64;

	private static final String FOLD = "\u2026";

	@DynamicPropertySource
	static void postgres(DynamicPropertyRegistry registry) {
		PostgresServer.registerDataSource(registry);
	}

	@LocalServerPort
	int port;

	@Autowired
	StockRepository stock;

	@Autowired
	ContextRuntime runtime;

	final PostgresServer postgres = PostgresServer.get();

	TestHttp http;

	/** Another transaction, which holds the row lock the request waits for. */
	Connection lockHolder;

	long articleId;

	@BeforeEach
	void lockTheArticlesRow() throws SQLException {
		this.http = new TestHttp(this.port);
		this.stock.deleteAll();
		this.articleId = this.stock.save(new Stock("sku-1", 10)).getId();
		this.lockHolder = this.postgres.connect();
		this.lockHolder.setAutoCommit(false);
		try (PreparedStatement lock = this.lockHolder
			.prepareStatement("select quantity from stock where id = ? for update")) {
			lock.setLong(1, this.articleId);
			try (ResultSet row = lock.executeQuery()) {
				assertThat(row.next()).isTrue();
			}
		}
	}

	@AfterEach
	void releaseTheLock() throws SQLException {
		this.lockHolder.rollback();
		this.lockHolder.close();
		awaitUntil("no request left in flight").until(() -> this.runtime.live().size() == 0);
	}

	@Test
	void theStackOfARequestWaitingInARepositoryShowsTheApplicationsFramesAndItsDeadlineStopsTheStatement()
			throws Exception {
		long start = System.nanoTime();
		CompletableFuture<Response> reservation = this.http.postAsync("/stock/" + this.articleId + "/reservations",
				"X-Request-Id", "reserve-1", "Request-Timeout-Ms", "4000");
		awaitUntil("the request is listed").until(() -> listed("reserve-1"));
		assertThat(this.postgres.awaitActive(LOCKING_SELECT, 1, Duration.ofSeconds(3)))
			.as("the locking select waits on the database")
			.isTrue();
		// PostgreSQL shows the statement a moment before the driver's thread reads its answer.
		List<String> folded = awaitUntil("the request's thread reads the answer").until(
				() -> stack("reserve-1", "folded"), (stack) -> top(stack).stream()
					.anyMatch((frame) -> frame.contains("java.net.Socket$SocketInputStream.read")));
		assertThat(folded.subList(0, top(folded).size() + 1)).as("the top names the driver")
			.anyMatch((frame) -> frame.contains("org.postgresql"));
		List<String> full = stack("reserve-1", "full");
		boolean onVirtualThread = full.stream().anyMatch((frame) -> frame.contains("java.lang.VirtualThread.run"));
		assertThat(onVirtualThread).as("the request runs on a virtual thread").isEqualTo(virtualThreads());

		// Folded: the application's frames, in the order they called each other, with the
		// repository method the service called just above it.
		int service = indexOf(folded, "StockService.reserve(");
		int controller = indexOf(folded, "StockController.reserve(");
		assertThat(service).isPositive().isLessThan(controller);
		assertThat(folded.get(service - 1)).as("the repository call site")
			.matches(".*\\$Proxy\\d+\\.findById\\(.*");
		assertThat(folded.get(controller - 1)).as("what the controller called: the service's transactional proxy")
			.contains("StockService$$SpringCGLIB$$0.reserve(");
		assertThat(folded).anyMatch((frame) -> frame.matches(FOLD + " \\d+ frames in .*org\\.hibernate.*"))
			.anyMatch((frame) -> frame.matches(FOLD + " \\d+ frames in .*org\\.springframework.*"))
			.hasSizeLessThan(full.size() / 2);
		int frames = 0;
		for (String entry : folded) {
			frames += entry.startsWith(FOLD) ? Integer.parseInt(entry.split(" ")[1]) : 1;
		}
		assertThat(frames).as("the folded lines count every frame left out").isEqualTo(full.size());

		// Full: every frame, the same application frames, all of them past the old cut.
		assertThat(full).hasSizeGreaterThan(OLD_CUT).noneMatch((frame) -> frame.startsWith(FOLD));
		assertThat(full.stream().filter((frame) -> frame.matches(APPLICATION_FRAME)).toList())
			.containsExactly(folded.get(service), folded.get(controller));
		assertThat(full.subList(0, OLD_CUT)).as("the %d frames the endpoint used to show", OLD_CUT)
			.noneMatch((frame) -> frame.matches(APPLICATION_FRAME));
		assertThat(this.http.get("/actuator/requestcontexts/reserve-1?stack=sideways").status()).isEqualTo(400);

		// The deadline cancels the statement through Hibernate and the pool.
		Response response = reservation.get(15, TimeUnit.SECONDS);
		assertThat(response.status()).as(response.body()).isEqualTo(504);
		assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
			.as("answered at the deadline, within reqctx.jdbc.abort-after (1 s) and a margin for two busy cores")
			.isBetween(4_000L, 7_000L);
		assertThat(this.postgres.awaitNoActive(LOCKING_SELECT, Duration.ofSeconds(2)))
			.as("the locking select is gone from the database")
			.isTrue();
	}

	/**
	 * Whether the application serves requests on virtual threads.
	 * @return {@code false} here
	 */
	boolean virtualThreads() {
		return false;
	}

	private boolean listed(String requestId) {
		for (JsonNode ctx : this.http.get("/actuator/requestcontexts").json().get("contexts")) {
			if (requestId.equals(ctx.get("requestId").asString())) {
				return true;
			}
		}
		return false;
	}

	private List<String> stack(String requestId, String mode) {
		Response one = this.http.get("/actuator/requestcontexts/" + requestId + "?stack=" + mode);
		assertThat(one.status()).as(one.body()).isEqualTo(200);
		return one.json().get("stack").valueStream().map(JsonNode::asString).toList();
	}

	/** The top frames of a folded stack: those before its first folded line. */
	private static List<String> top(List<String> stack) {
		for (int i = 0; i < stack.size(); i++) {
			if (stack.get(i).startsWith(FOLD)) {
				return stack.subList(0, i);
			}
		}
		return stack;
	}

	private static int indexOf(List<String> stack, String frame) {
		for (int i = 0; i < stack.size(); i++) {
			if (stack.get(i).contains("dev.reqctx.examples.jpa." + frame)) {
				return i;
			}
		}
		return -1;
	}

	private static ConditionFactory awaitUntil(String what) {
		return await(what).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10));
	}

}
