package dev.reqctx.benchmarks;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.Deadline;
import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.CancellationHistory;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.RequestInfo;
import dev.reqctx.spi.ThreadContextBinder;
import dev.reqctx.web.ClientGoneDetector;
import dev.reqctx.web.RequestContextFilter;
import dev.reqctx.web.RequestContextFilterSettings;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

/**
 * The whole per-request lifecycle that reqctx adds, with 0 and 10,000 other requests in
 * flight: create the request's context with its deadline (a timer entry), register it, bind
 * it, unbind it, complete it (the timer entry goes) and unregister it. {@code filter} runs the
 * real servlet filter around a no-op chain, including header parsing and the request id;
 * {@code lifecycle} is the core work alone.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@State(org.openjdk.jmh.annotations.Scope.Thread)
public class RequestLifecycleBenchmarks {

	private static final FilterChain NO_OP = (request, response) -> {
	};

	@Param({ "0", "10000" })
	public int inFlight;

	private final List<CancellableContext> others = new ArrayList<>();

	private RequestContextFilter filter;

	private ClientGoneDetector detector;

	private RequestContextFilter clientGoneFilter;

	private MockHttpServletRequest request;

	private MockHttpServletRequest bareRequest;

	private MockHttpServletResponse response;

	private final RequestInfo info = new RequestInfo("GET", "/orders");

	private final ContextRuntime runtime = ContextRuntime.global();

	@Setup(Level.Trial)
	public void setUp() throws InterruptedException {
		// The others are registered from another thread, as a server's other requests are: the
		// benchmark's thread keeps nothing of theirs.
		Thread registrar = new Thread(() -> {
			for (int i = 0; i < this.inFlight; i++) {
				CancellableContext other = Contexts.newRoot(this.runtime, RequestContext.root(), ContextKind.REQUEST,
						this.info, 10, TimeUnit.MINUTES);
				Contexts.register(other);
				this.others.add(other);
			}
		}, "others");
		registrar.start();
		registrar.join();
		// As in an application: the cancellation record installed, idle while nothing is cancelled.
		Contexts.setExtension(this.runtime, CancellationHistory.class,
				new CancellationHistory(20, Duration.ofMillis(500), () -> ContextObserver.NONE));
		this.filter = new RequestContextFilter(RequestContextFilterSettings.defaults());
		// The same filter with client-gone detection: its thread looks at the live requests every
		// 50 ms while the benchmark runs (the 10,000 others are looked at and never watched).
		this.detector = new ClientGoneDetector(this.runtime, ClientGoneDetector.DEFAULT_INTERVAL);
		this.clientGoneFilter = new RequestContextFilter(this.runtime, RequestContextFilterSettings.defaults(),
				ContextObserver.NONE, null, List.of(this.detector), ThreadContextBinder.NONE);
		this.request = new MockHttpServletRequest("GET", "/orders");
		this.request.addHeader("X-Request-Id", "bench-request-1");
		this.request.addHeader("Request-Timeout-Ms", "2000");
		this.bareRequest = new MockHttpServletRequest("GET", "/orders");
		this.response = new MockHttpServletResponse();
	}

	@TearDown(Level.Trial)
	public void tearDown() {
		this.detector.close();
		for (CancellableContext other : this.others) {
			other.close();
			Contexts.unregister(other);
		}
	}

	@Benchmark
	public boolean lifecycle() {
		CancellableContext ctx = Contexts.newRoot(this.runtime,
				RequestContext.root().withValue(StandardKeys.REQUEST_ID, "bench-request-1"), ContextKind.REQUEST,
				this.info, 30, TimeUnit.SECONDS);
		Contexts.runningOn(ctx, Thread.currentThread());
		Contexts.register(ctx);
		try (dev.reqctx.Scope scope = ctx.attach()) {
			// the handler runs here
		}
		boolean completed = ctx.cancel(CancellationCause.COMPLETED);
		Contexts.runningOn(ctx, null);
		Contexts.unregister(ctx);
		return completed;
	}

	@Benchmark
	public Object filter() throws IOException, ServletException {
		this.request.removeAttribute(RequestContextFilter.CONTEXT_ATTRIBUTE);
		this.filter.doFilter(this.request, this.response, NO_OP);
		return this.response;
	}

	/** {@link #filter} with {@code reqctx.web.detect-client-gone} on, as Boot configures it on Tomcat. */
	@Benchmark
	public Object filterClientGone() throws IOException, ServletException {
		this.request.removeAttribute(RequestContextFilter.CONTEXT_ATTRIBUTE);
		this.clientGoneFilter.doFilter(this.request, this.response, NO_OP);
		return this.response;
	}

	/** A client that sends neither request id nor budget: the filter generates the id. */
	@Benchmark
	public Object filterNoHeaders() throws IOException, ServletException {
		this.bareRequest.removeAttribute(RequestContextFilter.CONTEXT_ATTRIBUTE);
		this.filter.doFilter(this.bareRequest, this.response, NO_OP);
		return this.response;
	}

	@Benchmark
	public Object baselineNoFilter() throws IOException, ServletException {
		NO_OP.doFilter(this.request, this.response);
		return this.response;
	}

}
