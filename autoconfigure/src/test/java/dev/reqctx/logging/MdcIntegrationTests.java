package dev.reqctx.logging;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.reqctx.ContextRuntime;
import dev.reqctx.LiveContexts;
import dev.reqctx.logging.MdcTestApplication.Dispatch;
import dev.reqctx.task.TaskWrapper;
import dev.reqctx.testsupport.TestHttp.Response;
import dev.reqctx.testsupport.TestHttp;
import jakarta.servlet.DispatcherType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.task.AsyncTaskExecutor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The request id, trace id and deadline reach the logging MDC wherever a request's work runs,
 * and every thread gets its previous MDC back exactly, over real HTTP: normal, failing, timed
 * out and async requests, and {@code @Async} tasks on a one-thread pool.
 */
@SpringBootTest(classes = MdcTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "spring.task.execution.pool.core-size=1", "spring.task.execution.pool.max-size=1",
				"reqctx.logging.deadline=true" })
class MdcIntegrationTests {

	@LocalServerPort
	int port;

	@Autowired
	ContextRuntime runtime;

	@Autowired
	@Qualifier("applicationTaskExecutor")
	AsyncTaskExecutor pool;

	TestHttp http;

	private final List<Dispatch> seen = new ArrayList<>();

	@BeforeEach
	void setUp() {
		this.http = new TestHttp(this.port);
		MdcTestApplication.dispatches.clear();
	}

	@AfterEach
	void everyDispatchFoundACleanThreadAndLeftItAsItWas() {
		await().atMost(Duration.ofSeconds(10)).until(() -> this.runtime.live().size() == 0);
		MdcTestApplication.dispatches.drainTo(this.seen);
		assertThat(this.seen).isNotEmpty();
		for (Dispatch dispatch : this.seen) {
			assertThat(dispatch.before()).as("MDC a %s dispatch found", dispatch.type()).isEmpty();
			assertThat(dispatch.after()).as("MDC a %s dispatch left", dispatch.type())
				.isEqualTo(MdcTestApplication.OUTER);
		}
	}

	@Test
	void theHandlerSeesTheRequestIdAndDeadlineAndTheApplicationsOwnValues() {
		long before = System.currentTimeMillis();
		JsonNode mdc = this.http.get("/mdc/echo", "X-Request-Id", "mdc-echo", "Request-Timeout-Ms", "2000").json();
		long after = System.currentTimeMillis();
		assertThat(mdc.get(MdcContextBinder.REQUEST_ID).asString()).isEqualTo("mdc-echo");
		assertThat(mdc.get(MdcContextBinder.DEADLINE).asLong()).isBetween(before + 1_000, after + 2_000);
		// No tracer in this application: the context has no trace id, so the outer one is hidden.
		assertThat(mdc.has(MdcContextBinder.TRACE_ID)).isFalse();
		assertThat(mdc.get("app.user").asString()).isEqualTo("alice");
		awaitDispatches("mdc-echo", DispatcherType.REQUEST);
	}

	@Test
	void aFailingRequestRestoresTheMdcOnEveryDispatch() {
		Response response = this.http.get("/mdc/boom", "X-Request-Id", "mdc-boom");
		assertThat(response.status()).isEqualTo(500);
		awaitDispatches("mdc-boom", DispatcherType.REQUEST, DispatcherType.ERROR);
	}

	@Test
	void aRequestThatRunsOutOfTimeRestoresTheMdc() {
		Response response = this.http.get("/mdc/await-cancel", "X-Request-Id", "mdc-504", "Request-Timeout-Ms", "200");
		assertThat(response.status()).isEqualTo(504);
		awaitDispatches("mdc-504", DispatcherType.REQUEST);
	}

	@Test
	void anAsyncRequestHasTheMdcOnTheCallableThreadAndEveryThreadIsRestored() throws Exception {
		JsonNode mdc = this.http.get("/mdc/callable", "X-Request-Id", "mdc-callable").json();
		assertThat(mdc.get(MdcContextBinder.REQUEST_ID).asString()).isEqualTo("mdc-callable");
		assertThat(mdc.has(MdcContextBinder.DEADLINE)).isTrue();
		awaitDispatches("mdc-callable", DispatcherType.REQUEST, DispatcherType.ASYNC);
		assertThat(poolThreadMdc()).isEmpty();
	}

	@Test
	void anAsyncTaskSeesItsRequestsIdAndThePoolThreadIsCleanAfterwards() throws Exception {
		JsonNode body = this.http.get("/mdc/task", "X-Request-Id", "mdc-task", "Request-Timeout-Ms", "3000").json();
		JsonNode task = body.get("task");
		assertThat(task.get(MdcContextBinder.REQUEST_ID).asString()).isEqualTo("mdc-task");
		// Both name the request's one deadline, each converting it to epoch milliseconds with clock
		// reads of its own: a preemption between those reads shifts the result (tens of
		// milliseconds on two loaded cores).
		assertThat(task.get(MdcContextBinder.DEADLINE).asLong()).as("the request's deadline, within 100 ms")
			.isCloseTo(body.get("handler").get(MdcContextBinder.DEADLINE).asLong(),
					org.assertj.core.data.Offset.offset(100L));
		assertThat(task.has("app.user")).as("the pool thread has none of the request thread's own MDC").isFalse();
		awaitDispatches("mdc-task", DispatcherType.REQUEST);
		assertThat(poolThreadMdc()).isEmpty();
	}

	@Test
	void theWarningAboutAnOrphanedTaskCarriesItsRequestsId() throws Exception {
		Logger logger = (Logger) LoggerFactory.getLogger(TaskWrapper.class);
		ListAppender<ILoggingEvent> appender = new ListAppender<>();
		appender.start();
		logger.addAppender(appender);
		try {
			assertThat(this.http.get("/mdc/orphan", "X-Request-Id", "mdc-orphan").status()).isEqualTo(200);
			awaitDispatches("mdc-orphan", DispatcherType.REQUEST);
			await().atMost(Duration.ofSeconds(10)).until(() -> !appender.list.isEmpty());
			ILoggingEvent warning = appender.list.get(0);
			assertThat(warning.getFormattedMessage()).contains("outlived its request");
			assertThat(warning.getMDCPropertyMap()).containsEntry(MdcContextBinder.REQUEST_ID, "mdc-orphan");
		}
		finally {
			logger.detachAppender(appender);
		}
		assertThat(poolThreadMdc()).isEmpty();
	}

	/** The MDC of the single pool thread, seen by a task submitted outside any request. */
	private Map<String, String> poolThreadMdc() throws Exception {
		return this.pool.submit(MdcTestApplication::copy).get(10, TimeUnit.SECONDS);
	}

	private void awaitDispatches(String requestId, DispatcherType... types) {
		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			MdcTestApplication.dispatches.drainTo(this.seen);
			assertThat(this.seen.stream().filter((d) -> requestId.equals(d.requestId())).map(Dispatch::type))
				.containsExactlyInAnyOrder(types);
		});
	}

}
