package dev.reqctx.web;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellableContext;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.RequestInfo;
import dev.reqctx.spi.ThreadContextBinder;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How the filter tells a new request from a later dispatch of one it already started. The
 * dispatch logic only: the servlet objects are Spring's mocks; the container's behaviour is in
 * the integration tests.
 */
class RequestContextFilterDispatchTests {

	private final ContextRuntime runtime = new ContextRuntime("dispatch", ContextRuntime.DEFAULT_ORPHAN_HISTORY,
			false);

	private final RequestContextFilter filter = new RequestContextFilter(this.runtime,
			RequestContextFilterSettings.defaults(), ContextObserver.NONE, null, List.of(), ThreadContextBinder.NONE);

	@AfterEach
	void threadIsCleanAfterwards() {
		assertThat(Scope.isAnyBound()).isFalse();
		assertThat(this.runtime.live().isEmpty()).isTrue();
	}

	@Test
	void theFilterRegisteredTwiceGivesTheRequestOneContext() throws Exception {
		List<RequestContext> seen = new ArrayList<>();
		FilterChain handler = (req, res) -> seen.add(RequestContext.current());
		// The second registration runs inside the first, on the same dispatch.
		FilterChain second = (req, res) -> {
			seen.add(RequestContext.current());
			this.filter.doFilter(req, res, handler);
		};
		this.filter.doFilter(request(), new MockHttpServletResponse(), second);
		assertThat(seen).hasSize(2);
		assertThat(seen.get(1)).isSameAs(seen.get(0));
		assertThat(seen.get(0).get(StandardKeys.REQUEST_ID)).isEqualTo("req-1");
		assertThat(this.runtime.diagnostics().misuseCount()).isZero();
	}

	@Test
	void aContextLeftBoundOnThePooledThreadIsReportedAndTheRequestStartsClean() throws Exception {
		CancellableContext leaked = Contexts.newRoot(this.runtime, RequestContext.root(), ContextKind.REQUEST, "leak",
				1, TimeUnit.MINUTES);
		leaked.attach(); // never closed
		try {
			List<RequestContext> seen = new ArrayList<>();
			this.filter.doFilter(request(), new MockHttpServletResponse(),
					(req, res) -> seen.add(RequestContext.current()));
			assertThat(seen).hasSize(1);
			assertThat(seen.get(0).get(StandardKeys.REQUEST_ID)).isEqualTo("req-1");
			assertThat(seen.get(0)).isNotSameAs(leaked);
			assertThat(this.runtime.diagnostics().misuseCount()).isEqualTo(1);
			assertThat(this.runtime.diagnostics().lastMisuse()).contains("still had").contains("a new request");
			assertThat(Scope.isAnyBound()).isFalse();
		}
		finally {
			// Whatever failed above, the next test on this thread starts with nothing bound.
			this.runtime.diagnostics().checkThreadClean("the next test");
			leaked.close();
		}
	}

	@Test
	void anAsyncDispatchContinuesTheRequestsContext() throws Exception {
		MockHttpServletRequest request = request();
		CancellableContext started = Contexts.newLiveRoot(this.runtime,
				RequestContext.root().withValue(StandardKeys.REQUEST_ID, "started-earlier"), ContextKind.REQUEST,
				new RequestInfo("GET", "/orders"), 1, TimeUnit.MINUTES);
		request.setAttribute(RequestContextFilter.CONTEXT_ATTRIBUTE, started);
		request.setDispatcherType(DispatcherType.ASYNC);
		List<RequestContext> seen = new ArrayList<>();
		this.filter.doFilter(request, new MockHttpServletResponse(), (req, res) -> seen.add(RequestContext.current()));
		assertThat(seen).singleElement()
			.satisfies((ctx) -> assertThat(ctx.get(StandardKeys.REQUEST_ID)).isEqualTo("started-earlier"));
		assertThat(started.isCancelled()).as("the async dispatch does not end the request").isFalse();
		started.close();
		Contexts.unregister(started);
	}

	@Test
	void anErrorDispatchWithoutAContextPassesThrough() throws Exception {
		MockHttpServletRequest request = request();
		request.setDispatcherType(DispatcherType.ERROR);
		List<RequestContext> seen = new ArrayList<>();
		this.filter.doFilter(request, new MockHttpServletResponse(), (req, res) -> seen.add(RequestContext.current()));
		assertThat(seen).containsExactly(RequestContext.root());
	}

	private static MockHttpServletRequest request() {
		MockHttpServletRequest request = new MockHttpServletRequest("GET", "/orders");
		request.addHeader("X-Request-Id", "req-1");
		return request;
	}

}
