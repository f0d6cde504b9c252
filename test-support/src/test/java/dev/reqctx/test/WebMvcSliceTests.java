package dev.reqctx.test;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.MockMvc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

/**
 * reqctx in Boot's {@code @WebMvcTest} slice: the filter gives each MockMvc request its
 * context (request id, budget) and the resolver answers a cancelled one with a 504 problem.
 */
@WebMvcTest(SliceTestApplication.ContextController.class)
@NoContextLeaks
class WebMvcSliceTests {

	@Autowired
	MockMvc mvc;

	@AfterEach
	void testThreadIsLeftClean() {
		// MockMvc runs the handler on the test's own thread: what the deadline did to it must
		// not outlive the request.
		assertThat(Thread.currentThread().isInterrupted()).as("interrupt flag left set").isFalse();
	}

	@Test
	void givesEachRequestAContextWithItsBudgetAndId() throws Exception {
		this.mvc.perform(get("/context").header("Request-Timeout-Ms", "1500").header("X-Request-Id", "slice-1"))
			.andExpect(status().isOk())
			.andExpect(header().string("X-Request-Id", "slice-1"))
			.andExpect(jsonPath("$.requestId").value("slice-1"))
			.andExpect(jsonPath("$.remainingMs").value(greaterThan(0)))
			.andExpect(jsonPath("$.remainingMs").value(lessThanOrEqualTo(1500)));
	}

	@Test
	void generatesARequestIdWhenTheClientSendsNone() throws Exception {
		this.mvc.perform(get("/context")).andExpect(status().isOk()).andExpect(header().exists("X-Request-Id"));
	}

	@Test
	void answersACancelledRequestWith504() throws Exception {
		long start = System.nanoTime();
		this.mvc.perform(get("/wait").header("Request-Timeout-Ms", "100").accept(MediaType.APPLICATION_JSON))
			.andExpect(status().isGatewayTimeout())
			.andExpect(content().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON))
			.andExpect(jsonPath("$.cause").value("DEADLINE_EXCEEDED"))
			.andExpect(jsonPath("$.requestId").exists());
		assertThat((System.nanoTime() - start) / 1_000_000).as("answered at the deadline, not after 30 s")
			.isLessThan(10_000);
	}

}
