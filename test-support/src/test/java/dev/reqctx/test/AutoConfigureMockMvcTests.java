package dev.reqctx.test;

import dev.reqctx.ContextRuntime;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webmvc.test.autoconfigure.AutoConfigureMockMvc;
import org.springframework.test.web.servlet.MockMvc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

/**
 * reqctx with {@code @SpringBootTest} and {@code @AutoConfigureMockMvc}: the same filter and
 * resolver as over HTTP, and the request counted in the application's runtime.
 */
@SpringBootTest(properties = { "spring.application.name=mockmvc-tests",
		"spring.autoconfigure.exclude=org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration" })
@AutoConfigureMockMvc
@NoContextLeaks
class AutoConfigureMockMvcTests {

	@Autowired
	MockMvc mvc;

	@Autowired
	ContextRuntime runtime;

	@Test
	void filtersMockMvcRequests() throws Exception {
		this.mvc.perform(get("/context").header("X-Request-Id", "mock-1"))
			.andExpect(status().isOk())
			.andExpect(header().string("X-Request-Id", "mock-1"))
			.andExpect(jsonPath("$.requestId").value("mock-1"));
	}

	@Test
	void answersACancelledRequestWith504() throws Exception {
		this.mvc.perform(get("/wait").header("Request-Timeout-Ms", "50"))
			.andExpect(status().isGatewayTimeout())
			.andExpect(jsonPath("$.cause").value("DEADLINE_EXCEEDED"));
		assertThat(this.runtime.live().size()).isZero();
	}

}
