package dev.reqctx.test;

import dev.reqctx.CancellableContext;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.RequestContext;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.restclient.test.autoconfigure.RestClientTest;
import org.springframework.test.web.client.MockRestServiceServer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.hamcrest.Matchers.matchesPattern;
import static org.springframework.test.web.client.match.MockRestRequestMatchers.header;
import static org.springframework.test.web.client.match.MockRestRequestMatchers.requestTo;
import static org.springframework.test.web.client.response.MockRestResponseCreators.withSuccess;

/**
 * reqctx in Boot's {@code @RestClientTest} slice: a client built from Boot's
 * {@code RestClient.Builder} sends the test's remaining budget and fails fast once the test's
 * context is cancelled.
 */
@RestClientTest(PriceClient.class)
@NoContextLeaks
class RestClientSliceTests {

	@Autowired
	PriceClient client;

	@Autowired
	MockRestServiceServer server;

	@Test
	@WithDeadline(2000)
	void sendsTheRemainingBudget() {
		this.server.expect(requestTo("http://prices.example/price"))
			.andExpect(header("Request-Timeout-Ms", matchesPattern("\\d+")))
			.andExpect((request) -> assertThat(Long.parseLong(request.getHeaders().getFirst("Request-Timeout-Ms")))
				.isGreaterThan(0)
				.isLessThanOrEqualTo(2000))
			.andRespond(withSuccess("42", null));
		assertThat(this.client.price()).isEqualTo("42");
		this.server.verify();
	}

	@Test
	@WithDeadline(2000)
	void failsFastOnceCancelled(CancellableContext ctx) {
		ctx.cancel();
		assertThatExceptionOfType(ContextCancelledException.class).isThrownBy(() -> this.client.price());
		assertThat(RequestContext.current().isCancelled()).isTrue();
		this.server.verify(); // nothing was sent
	}

}
