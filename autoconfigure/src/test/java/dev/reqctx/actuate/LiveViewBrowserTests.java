package dev.reqctx.actuate;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.StandardKeys;
import dev.reqctx.UnitOfWork;
import dev.reqctx.spi.ContextTree;
import dev.reqctx.spi.Contexts;
import dev.reqctx.testsupport.HeadlessChromium;
import dev.reqctx.testsupport.TestHttp;
import org.assertj.core.data.Offset;
import org.awaitility.core.ConditionFactory;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.select.Elements;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The live view in a real browser: headless Chromium loads the page from a real server, the
 * page's script reads the endpoint's JSON and draws it, and the test reads the DOM it left.
 * Fails, never skips, without Chromium ({@code scripts/install-chromium.sh}).
 */
@SpringBootTest(classes = LiveViewTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.endpoints.web.exposure.include=requestcontexts",
				"management.endpoint.requestcontexts.html.enabled=true", "reqctx.task.capture-stacks=true",
				// A path with markup in it, as a lenient container or proxy would pass on.
				"server.tomcat.relaxed-path-chars=<,>" })
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LiveViewBrowserTests {

	/** Markup that runs a script if a page ever lets it in as markup. */
	static final String MARKUP = "<img src=x onerror=\"document.title='pwned'\">";

	/** The same without spaces, for a request line. */
	static final String PATH_MARKUP = "<svg/onload=document.title='pwned'>";

	private static final String TITLE = "> .row > .title";

	private static final String BAR = "> .budget > .bar";

	private static final String LABEL = "> .budget > .label";

	private static final Path OUTPUT = Paths.get("target", "live-view");

	private static HeadlessChromium chromium;

	@LocalServerPort
	int port;

	@Autowired
	ContextRuntime runtime;

	@Autowired
	LiveViewTestApplication.FixtureController fixture;

	private TestHttp http;

	private final List<CompletableFuture<TestHttp.Response>> inFlight = new ArrayList<>();

	private Socket rawRequest;

	private UnitOfWork job;

	@BeforeAll
	static void findChromium() throws IOException {
		chromium = HeadlessChromium.find();
		Files.createDirectories(OUTPUT);
	}

	@BeforeEach
	void setUp() {
		this.http = new TestHttp(this.port);
		LiveViewTestApplication.LiveController.stragglerRelease = new CountDownLatch(1);
	}

	@AfterEach
	void endEverything() throws Exception {
		LiveViewTestApplication.LiveController.stragglerRelease.countDown();
		if (this.job != null) {
			this.job.close();
		}
		for (CancellableContext ctx : this.runtime.live().list()) {
			ctx.cancel(CancellationCause.CANCELLED);
		}
		for (CompletableFuture<TestHttp.Response> response : this.inFlight) {
			response.join();
		}
		if (this.rawRequest != null) {
			this.rawRequest.close();
		}
		awaitUntil("no request left in flight").until(() -> this.runtime.live().size() == 0);
	}

	@Test
	@Order(1) // First: the recent cancellations in its screenshot are then its own.
	void requestsInFlightAreDrawnWithTheirBudgetTasksAndOperations() throws Exception {
		this.inFlight.add(this.http.getAsync("/live/orders/42", "X-Request-Id", "checkout-7f3a",
				"Request-Timeout-Ms", "30000"));
		this.inFlight.add(this.http.getAsync("/straggler", "X-Request-Id", "straggler-1", "Request-Timeout-Ms", "30000"));
		awaitUntil("the handlers are at work").until(() -> working("checkout-7f3a") && working("straggler-1"));
		// The straggler's context is cancelled, but its work does not return: reqctx.cancel.straggler-after
		// (500 ms) later its record says so.
		request("straggler-1").cancel(CancellationCause.CANCELLED);
		awaitUntil("the straggler is recorded").until(() -> stragglerRecorded("straggler-1"));
		assertThat(this.http.get("/orphan", "X-Request-Id", "orphan-1").status()).isEqualTo(200);
		awaitUntil("the orphan is reported").until(() -> !this.runtime.orphans().recent().isEmpty());
		this.job = this.runtime.work("nightly-report").kind(ContextKind.JOB).start();

		// This screenshot is the README's docs/live-view.png.
		Document page = load("/actuator/requestcontexts", Duration.ofMillis(2500), OUTPUT.resolve("live-view.png"));

		assertThat(page.title()).isEqualTo("reqctx live view");
		assertThat(page.getElementById("error").hasAttr("hidden")).isTrue();
		assertThat(page.getElementById("status").text()).startsWith("updated ");
		assertThat(page.getElementById("total").text()).matches("\\d+ in flight");

		Element checkout = card(page, "checkout-7f3a");
		assertThat(own(checkout, TITLE).text()).isEqualTo("GET /live/orders/42");
		assertThat(checkout.attr("data-level")).isEqualTo("ok");
		Element bar = own(checkout, BAR);
		long budget = Long.parseLong(bar.attr("aria-valuemax"));
		long elapsed = Long.parseLong(bar.attr("aria-valuenow"));
		// ageMs + remainingMs, each rounded down to the millisecond, from one snapshot.
		assertThat(budget).isBetween(29_990L, 30_000L);
		assertThat(elapsed).isBetween(0L, budget);
		assertThat(widthPercent(bar)).isCloseTo(100.0 * elapsed / budget, Offset.offset(0.01));
		Element task = checkout.selectFirst("> .children > li.ctx");
		assertThat(task.attr("data-kind")).isEqualTo("TASK");
		assertThat(own(task, TITLE).text()).isEqualTo("render-invoice");
		assertThat(own(task, BAR)).isNotNull();
		assertThat(task.select("> .values > .mono").text()).as("masked as in the JSON").isEqualTo("tenant=******");
		Element op = task.selectFirst("> .operations > li.op");
		assertThat(op.select("> .what").text()).isEqualTo("SELECT * FROM invoices FOR UPDATE");
		assertThat(op.attr("data-state")).isEqualTo("RUNNING");

		Element straggler = card(page, "straggler-1");
		assertThat(straggler.attr("data-level")).isEqualTo("late");
		assertThat(straggler.classNames()).contains("late");
		assertThat(own(straggler, BAR).classNames()).contains("late");
		assertThat(straggler.select("> .row > .pill").eachText()).contains("CANCELLED");
		assertThat(own(straggler, LABEL).text()).endsWith("cancelled, not finished yet");

		Element job = page.selectFirst("#contexts > li.ctx[data-kind=JOB]");
		assertThat(own(job, TITLE).text()).isEqualTo("nightly-report");
		assertThat(own(job, BAR).classNames()).contains("open");
		assertThat(own(job, LABEL).text()).endsWith("no deadline");

		assertThat(page.select("#leak-list > li.leak"))
			.anySatisfy((leak) -> assertThat(leak.text()).contains("GET /orphan").contains("orphan-1"));
		Element cancellation = page.select("#cancellation-list > li.cancellation")
			.stream()
			.filter((card) -> card.text().contains("straggler-1"))
			.findFirst()
			.orElseThrow(() -> new AssertionError("no cancellation of straggler-1 in " + page.getElementById("cancellations")));
		assertThat(cancellation.classNames()).contains("late");
		assertThat(cancellation.select("> .row > .pill").eachText()).contains("CANCELLED", "1 straggler");
		Element stuck = cancellation.selectFirst("> .operations > li.op");
		assertThat(stuck.classNames()).contains("straggler");
		assertThat(stuck.select("> .what").text()).isEqualTo("GET http://ledger.internal/balances");
		assertThat(stuck.text()).contains("still running");
		assertThat(stuck.select("details pre").text()).contains("LiveController.straggler");
		assertThat(Files.size(OUTPUT.resolve("live-view.png"))).isGreaterThan(10_000);
	}

	@Test
	void markupInAPathATaskNameAndSqlIsShownAsTextAndNeverRuns() throws Exception {
		this.rawRequest = sendRawRequest("/live/" + PATH_MARKUP, "X-Request-Id: xss-probe",
				"Request-Timeout-Ms: 30000", "X-Task-Name: " + MARKUP, "X-Operation: SELECT '" + MARKUP + "'");
		awaitUntil("the handler is at work").until(() -> working("xss-probe"));

		Document page = load("/actuator/requestcontexts", Duration.ofMillis(1500), OUTPUT.resolve("live-view-markup.png"));

		assertThat(page.title()).as("no markup ran").isEqualTo("reqctx live view");
		assertThat(page.select("img, svg")).as("markup from the data became no element").isEmpty();
		Element probe = card(page, "xss-probe");
		assertThat(own(probe, TITLE).text()).isEqualTo("GET /live/" + PATH_MARKUP);
		Element task = probe.selectFirst("> .children > li.ctx");
		assertThat(own(task, TITLE).text()).isEqualTo(MARKUP);
		assertThat(task.select("> .operations > li.op > .what").text()).isEqualTo("SELECT '" + MARKUP + "'");
	}

	@Test
	void everyStateOfTheJsonIsDrawnAndAFailedRefreshKeepsTheLastDataUnderABanner() throws Exception {
		Document page = load("/fixture/live-view", Duration.ofMillis(2500), OUTPUT.resolve("live-view-fixture.png"));
		assertThat(this.fixture.jsonAnswers.get()).as("refreshed after the first read").isGreaterThanOrEqualTo(2);

		assertThat(page.title()).isEqualTo("reqctx live view");
		assertThat(page.select("img, svg, b")).isEmpty();
		assertThat(page.select("#counts .pill").eachText()).containsExactly("7 in flight",
				"showing the 5 closest to their deadline", "1 under 20% left", "2 cancelled or overdue");

		assertThat(level(page, "c-ok")).isEqualTo("ok");
		assertThat(widthPercent(own(byId(page, "c-ok"), BAR))).isEqualTo(5.0);
		assertThat(own(byId(page, "c-ok"), LABEL).text()).isEqualTo("1.5 s elapsed \u00b7 28.5 s left of 30.0 s");
		assertThat(byId(page, "c-ok-task").parent().parent()).isEqualTo(byId(page, "c-ok"));
		assertThat(level(page, "c-amber")).as("700 ms left of 5 s is under 20 %").isEqualTo("warn");
		assertThat(widthPercent(own(byId(page, "c-amber"), BAR))).isEqualTo(86.0);
		assertThat(own(byId(page, "c-amber"), TITLE).text())
			.isEqualTo("GET /reports/<img src=x onerror=\"document.title='pwned'\">");
		assertThat(level(page, "c-overdue")).isEqualTo("late");
		assertThat(widthPercent(own(byId(page, "c-overdue"), BAR))).isEqualTo(100.0);
		assertThat(own(byId(page, "c-overdue"), LABEL).text()).endsWith("deadline passed 300 ms ago");
		assertThat(level(page, "c-cancelling")).isEqualTo("late");
		assertThat(own(byId(page, "c-cancelling"), LABEL).text()).isEqualTo("8.0 s elapsed \u00b7 cancelled, not finished yet");
		assertThat(byId(page, "c-cancelling").select("li.op.straggler[data-state=CANCELLING]")).hasSize(1);
		assertThat(own(byId(page, "c-job"), BAR).classNames()).contains("open");

		Element leak = page.selectFirst("#leak-list > li.leak");
		assertThat(leak.classNames()).contains("late");
		assertThat(own(leak, TITLE).text()).isEqualTo("<img src=x onerror=\"document.title='pwned'\">");
		assertThat(leak.select("details pre").text()).contains("com.acme.Orders.fanOut");

		assertThat(page.getElementById("cancellations").hasAttr("hidden")).isFalse();
		Element cancellation = page.selectFirst("#cancellation-list > li.cancellation");
		assertThat(cancellation.classNames()).contains("late");
		assertThat(cancellation.select(".pill").eachText()).contains("DEADLINE_EXCEEDED", "1 straggler");
		Elements ops = cancellation.select("li.op");
		assertThat(ops.get(0).classNames()).contains("straggler");
		assertThat(ops.get(0).text()).contains("SELECT * FROM items WHERE name LIKE '%<b>bold</b>%'")
			.contains("signalled 0 ms after the cancel")
			.contains("still running");
		assertThat(ops.get(0).select("details pre").text()).contains("PGStream.receiveChar");
		assertThat(ops.get(1).classNames()).doesNotContain("straggler");
		assertThat(ops.get(1).text()).contains("signalled 1 ms after the cancel").contains("returned 4 ms after its signal");

		assertThat(page.getElementById("unbound").hasAttr("hidden")).isFalse();
		Element unbound = page.selectFirst("#unbound-list > li.unbound");
		assertThat(own(unbound, TITLE).text()).isEqualTo("com.acme.Reports.lambda$nightly$0(Reports.java:57)");
		assertThat(unbound.select("> .row > .meta").eachText()).contains("times 3", "on pool-1-thread-1");

		Element error = page.getElementById("error");
		assertThat(error.hasAttr("hidden")).isFalse();
		assertThat(error.text()).startsWith("Refresh failed: HTTP 401").contains("Showing the data from");
		assertThat(page.getElementById("main").classNames()).contains("stale");
	}

	private Document load(String path, Duration virtualTime, Path screenshot) throws Exception {
		String url = "http://127.0.0.1:" + this.port + path;
		String dom = chromium.load(url, this.port, virtualTime, screenshot, OUTPUT);
		Files.writeString(OUTPUT.resolve(screenshot.getFileName().toString().replace(".png", ".html")), dom);
		return Jsoup.parse(dom, url);
	}

	/** The request with the given request id, or {@code null}. */
	private CancellableContext request(String requestId) {
		for (CancellableContext ctx : this.runtime.live().list()) {
			if (requestId.equals(ctx.get(StandardKeys.REQUEST_ID))) {
				return ctx;
			}
		}
		return null;
	}

	private boolean stragglerRecorded(String requestId) {
		for (JsonNode cancellation : this.http.get("/actuator/requestcontexts").json().path("cancellations")) {
			if (requestId.equals(cancellation.path("requestId").asString()) && cancellation.path("stragglers").asInt() > 0) {
				return true;
			}
		}
		return false;
	}

	/** Whether the request is in flight and its handler has started its operation. */
	private boolean working(String requestId) {
		CancellableContext ctx = request(requestId);
		if (ctx == null) {
			return false;
		}
		ContextTree tree = Contexts.tree(ctx);
		return !tree.operations().isEmpty() || tree.children().stream().anyMatch((child) -> !child.operations().isEmpty());
	}

	/** Sends a request line Java's HTTP client refuses to build; the answer is never read. */
	private Socket sendRawRequest(String path, String... headers) throws IOException {
		Socket socket = new Socket("127.0.0.1", this.port);
		StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + this.port + "\r\n");
		for (String header : headers) {
			request.append(header).append("\r\n");
		}
		OutputStream out = socket.getOutputStream();
		out.write(request.append("\r\n").toString().getBytes(StandardCharsets.UTF_8));
		out.flush();
		return socket;
	}

	private static Element card(Document page, String requestId) {
		for (Element card : page.select("#contexts > li.ctx")) {
			Element id = card.selectFirst("> .row > .request-id > code");
			if (id != null && id.text().equals(requestId)) {
				return card;
			}
		}
		throw new AssertionError("no card for request " + requestId + " in " + page.getElementById("contexts"));
	}

	private static Element byId(Document page, String contextId) {
		Element card = page.selectFirst("li[data-id=" + contextId + "]");
		assertThat(card).as("card of %s", contextId).isNotNull();
		return card;
	}

	private static String level(Document page, String contextId) {
		return byId(page, contextId).attr("data-level");
	}

	/** The card's own element (not one of its nested tasks'), by a selector from the card. */
	private static Element own(Element card, String selector) {
		Element found = card.selectFirst(selector);
		assertThat(found).as("%s of %s", selector, card.attr("data-id")).isNotNull();
		return found;
	}

	private static double widthPercent(Element bar) {
		String style = bar.selectFirst(".elapsed").attr("style");
		assertThat(style).matches("width: [0-9.]+%;");
		return Double.parseDouble(style.substring("width: ".length(), style.length() - 2));
	}

	private static ConditionFactory awaitUntil(String what) {
		return await(what).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5));
	}

}
