package dev.reqctx.actuate;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.reqctx.ContextRuntime;
import dev.reqctx.LiveContexts;
import dev.reqctx.testsupport.TestHttp.Response;
import dev.reqctx.testsupport.TestHttp;
import dev.reqctx.web.RequestContextFilter;
import dev.reqctx.web.WebTestApplication;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.api.Timeout;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.mock.web.MockAsyncContext;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The {@code requestcontexts} list stays bounded and puts the most urgent first with 10,000
 * requests in flight.
 *
 * <p>The 10,000 requests go through the application's own {@link RequestContextFilter} as async
 * requests that stay open (so their contexts are created, registered and later ended by the
 * filter's real code paths) without holding 10,000 sockets or threads on a two-core machine;
 * two more are real requests over HTTP, waiting in their handlers. The endpoint is called over
 * real HTTP. Its latency at this scale is measured by {@code benchmarks/scripts/endpoint-scale.sh},
 * not here.
 */
@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.endpoints.web.exposure.include=requestcontexts",
				"management.endpoint.requestcontexts.access=unrestricted" })
@Timeout(value = 120, threadMode = ThreadMode.SEPARATE_THREAD)
class RequestContextsEndpointScaleTests {

	private static final int IN_FLIGHT = 10_000;

	@LocalServerPort
	int port;

	@Autowired
	ContextRuntime runtime;

	@Autowired
	FilterRegistrationBean<RequestContextFilter> reqctxFilterRegistration;

	@Autowired
	RequestContextsEndpoint endpoint;

	private final List<MockHttpServletRequest> parked = new ArrayList<>(IN_FLIGHT);

	@AfterEach
	void endTheParkedRequests() {
		for (MockHttpServletRequest request : this.parked) {
			if (request.isAsyncStarted()) {
				((MockAsyncContext) request.getAsyncContext()).complete();
			}
		}
	}

	@Test
	void tenThousandRequestsInFlightGiveABoundedListWithTheMostUrgentFirstAndAllEndCleanly() throws Exception {
		TestHttp http = new TestHttp(this.port);
		park(IN_FLIGHT);
		// Two real requests, closer to their deadline than any parked one: they must come first.
		CompletableFuture<Response> urgent = http.getAsync("/test/await-cancel", "X-Request-Id", "urgent-1",
				"Request-Timeout-Ms", "8000");
		CompletableFuture<Response> urgent2 = http.getAsync("/test/await-cancel", "X-Request-Id", "urgent-2",
				"Request-Timeout-Ms", "9000");
		await().atMost(Duration.ofSeconds(10)).until(() -> this.runtime.live().size() >= IN_FLIGHT + 2);

		Response first = http.get("/actuator/requestcontexts");
		JsonNode body = first.json();
		assertThat(body.get("total").asInt()).isGreaterThanOrEqualTo(IN_FLIGHT + 2);
		assertThat(body.get("contexts")).hasSize(RequestContextsEndpoint.DEFAULT_LIMIT);
		assertThat(body.get("contexts").get(0).get("requestId").asString()).isEqualTo("urgent-1");
		assertThat(body.get("contexts").get(1).get("requestId").asString()).isEqualTo("urgent-2");
		assertThat(body.get("contexts").get(2).get("requestId").asString()).isEqualTo("bulk-0");
		int defaultBytes = first.body().getBytes(StandardCharsets.UTF_8).length;
		assertThat(defaultBytes).isLessThan(100 * 1024);

		Response max = http.get("/actuator/requestcontexts?limit=1000000");
		assertThat(max.json().get("contexts")).hasSize(RequestContextsEndpoint.MAX_LIMIT);
		int maxBytes = max.body().getBytes(StandardCharsets.UTF_8).length;
		assertThat(maxBytes).isLessThan(1024 * 1024);
		assertThat(http.get("/actuator/requestcontexts?limit=5").json().get("contexts")).hasSize(5);
		assertThat(http.get("/actuator/requestcontexts/bulk-9999").json().get("path").asString())
			.isEqualTo("/bulk/9999");
		RequestContextsEndpoint.RequestContextsDescriptor inProcess = this.endpoint.list(null, false);
		assertThat(inProcess.total()).isGreaterThanOrEqualTo(IN_FLIGHT + 2);
		assertThat(inProcess.contexts()).hasSize(RequestContextsEndpoint.DEFAULT_LIMIT)
			.first()
			.satisfies((ctx) -> assertThat(ctx.requestId()).isEqualTo("urgent-1"));

		assertThat(http.post("/actuator/requestcontexts/urgent-1").status()).isEqualTo(200);
		assertThat(http.post("/actuator/requestcontexts/urgent-2").status()).isEqualTo(200);
		assertThat(urgent.get(10, TimeUnit.SECONDS).status()).isEqualTo(503);
		assertThat(urgent2.get(10, TimeUnit.SECONDS).status()).isEqualTo(503);
		endTheParkedRequests();
		await().atMost(Duration.ofSeconds(10)).until(() -> this.runtime.live().size() == 0);
		assertThat(http.get("/actuator/requestcontexts").json().get("total").asInt())
			.as("only the request asking").isEqualTo(1);
	}

	/**
	 * Starts requests through the reqctx filter that go async and stay open, as a
	 * {@code DeferredResult} would, with budgets that all differ.
	 */
	private void park(int count) throws Exception {
		RequestContextFilter filter = this.reqctxFilterRegistration.getFilter();
		for (int i = 0; i < count; i++) {
			MockHttpServletRequest request = new MockHttpServletRequest("GET", "/bulk/" + i);
			request.addHeader("X-Request-Id", "bulk-" + i);
			request.addHeader("Request-Timeout-Ms", Integer.toString(20_000 + i));
			request.setAsyncSupported(true);
			filter.doFilter(request, new MockHttpServletResponse(), (req, res) -> req.startAsync());
			this.parked.add(request);
		}
	}

}
