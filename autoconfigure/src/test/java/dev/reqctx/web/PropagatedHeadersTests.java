package dev.reqctx.web;

import java.util.List;
import java.util.Map;

import dev.reqctx.ContextKey;
import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link PropagatedHeaders}.
 */
class PropagatedHeadersTests {

	private final Map<String, String> inbound = Map.of("X-Tenant", "acme", "X-Other", "secret");

	@Test
	void capturesOnlyConfiguredHeadersThatArePresent() {
		RequestContext ctx = PropagatedHeaders.capture(RequestContext.root(), List.of("X-Tenant", "X-Missing"),
				this.inbound::get);
		assertThat(ctx.get(StandardKeys.PROPAGATED_HEADERS)).containsExactly(Map.entry("X-Tenant", "acme"));
	}

	@Test
	void capturedMapIsImmutable() {
		Map<String, String> captured = PropagatedHeaders.capture(List.of("X-Tenant"), this.inbound::get);
		assertThatExceptionOfType(UnsupportedOperationException.class).isThrownBy(() -> captured.put("a", "b"));
	}

	@Test
	void noConfiguredHeaderLeavesTheContextAlone() {
		RequestContext root = RequestContext.root();
		assertThat(PropagatedHeaders.capture(root, List.of(), this.inbound::get)).isSameAs(root);
		assertThat(PropagatedHeaders.capture(root, List.of("X-Missing"), this.inbound::get)).isSameAs(root);
	}

}
