package dev.reqctx.examples.secured;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import dev.reqctx.ContextRuntime;
import dev.reqctx.actuate.AuditEventOperatorCancelRecorder;
import dev.reqctx.testsupport.TestHttp;
import dev.reqctx.testsupport.TestHttp.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.actuate.audit.AuditEvent;
import org.springframework.boot.actuate.audit.AuditEventRepository;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The operator cancel behind Spring Security, over real HTTP with real logins: anonymous
 * callers and viewers cannot cancel, an operator can, and the cancel is in the log and in the
 * audit trail with who asked and from where.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "server.address=127.0.0.1")
@ExtendWith(OutputCaptureExtension.class)
class SecuredEndpointTests {

	private static final String OPERATOR = basic("operator", "operator-secret");

	private static final String VIEWER = basic("viewer", "viewer-secret");

	private static final String USER = basic("user", "user-secret");

	@LocalServerPort
	int port;

	@Autowired
	AuditEventRepository audits;

	@Autowired
	ContextRuntime runtime;

	TestHttp http;

	CompletableFuture<Response> work;

	@BeforeEach
	void startWork() {
		this.http = new TestHttp(this.port);
		this.work = this.http.getAsync("/work", "Authorization", USER, "X-Request-Id", "job-42",
				"Request-Timeout-Ms", "20000");
		await().atMost(Duration.ofSeconds(10)).until(() -> this.runtime.live().size() == 1);
	}

	@AfterEach
	void nothingLeftInFlight() {
		this.http.post("/actuator/requestcontexts/job-42", "Authorization", OPERATOR);
		this.work.join();
		await().atMost(Duration.ofSeconds(10)).until(() -> this.runtime.live().size() == 0);
	}

	@Test
	void anonymousCallersCanNeitherReadNorCancel() {
		assertThat(this.http.get("/actuator/requestcontexts").status()).isEqualTo(401);
		assertThat(this.http.post("/actuator/requestcontexts/job-42").status()).isEqualTo(401);
		assertThat(this.work).as("the request still runs").isNotDone();
	}

	@Test
	void aViewerSeesTheTreeWithMaskedValuesButCannotCancel() {
		Response list = this.http.get("/actuator/requestcontexts", "Authorization", VIEWER);
		assertThat(list.status()).isEqualTo(200);
		assertThat(requestIds(list.json())).contains("job-42");
		assertThat(this.http.post("/actuator/requestcontexts/job-42", "Authorization", VIEWER).status())
			.isEqualTo(403);
		assertThat(this.http.post("/actuator/requestcontexts/job-42", "Authorization", USER).status())
			.isEqualTo(403);
		assertThat(this.work).as("the request still runs").isNotDone();
	}

	@Test
	void theLiveViewIsBehindTheSameRulesAsTheJson() {
		assertThat(this.http.get("/actuator/requestcontexts", "Accept", "text/html").status()).isEqualTo(401);
		Response page = this.http.get("/actuator/requestcontexts", "Accept", "text/html", "Authorization", VIEWER);
		assertThat(page.status()).isEqualTo(200);
		assertThat(page.header("Content-Type")).isEqualTo("text/html;charset=UTF-8");
		assertThat(page.body()).contains("<title>reqctx live view</title>");
		// What the page's script reads: the JSON, with the viewer's masking.
		Response list = this.http.get("/actuator/requestcontexts", "Accept", "application/json", "Authorization", VIEWER);
		assertThat(list.header("Content-Type")).isEqualTo("application/json");
		assertThat(requestIds(list.json())).contains("job-42");
	}

	@Test
	void anOperatorCancelsARequestAndTheCancelIsLoggedAndAudited(CapturedOutput output) {
		// The audit repository is shared with the other tests of the class: only this one's events.
		Instant before = Instant.now().minusMillis(1);
		Response cancel = this.http.post("/actuator/requestcontexts/job-42", "Authorization", OPERATOR);
		assertThat(cancel.status()).isEqualTo(200);
		assertThat(cancel.json().get("cancelled").asBoolean()).isTrue();
		assertThat(this.work.join().status()).as("the cancelled request answers 503").isEqualTo(503);
		assertThat(output.getOut()).containsPattern(
				"Operator cancel of 'job-42' by 'operator' from 127\\.0\\.0\\.1: cancelled context \\w+ \\(GET /work\\) \\[job-42\\]");
		List<AuditEvent> events = this.audits.find("operator", before, AuditEventOperatorCancelRecorder.TYPE);
		assertThat(events).singleElement().satisfies((event) -> {
			assertThat(event.getData()).containsEntry("target", "job-42")
				.containsEntry("requestId", "job-42")
				.containsEntry("request", "GET /work")
				.containsEntry("cancelled", true)
				.containsEntry("remoteAddress", "127.0.0.1");
		});
	}

	@Test
	void bootsDefaultLogPatternCarriesTheRequestIdWithNoSettingOfTheApplications(CapturedOutput output) {
		// The application sets no logging pattern and has no tracer: reqctx's default correlation.
		// The handler logs once it runs, a moment after its request is in the live tree.
		await().atMost(Duration.ofSeconds(10)).until(() -> output.getOut().contains("Working until cancelled"));
		assertThat(output.getOut().lines().filter((line) -> line.contains("Working until cancelled")))
			.allSatisfy((line) -> assertThat(line).contains("[job-42] "));
	}

	private static List<String> requestIds(JsonNode list) {
		return list.get("contexts").valueStream().map((ctx) -> ctx.get("requestId").asString()).toList();
	}

	private static String basic(String user, String password) {
		return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
	}

}
