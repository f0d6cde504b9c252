package dev.reqctx.benchmarks;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellableContext;
import dev.reqctx.RequestContext;
import io.grpc.Context;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The core operations of reqctx, side by side with grpc-java's {@code io.grpc.Context},
 * OpenTelemetry's {@code Context} and a plain {@code ThreadLocal}, in one run so the ratios are
 * measured on the same machine at the same time.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@State(org.openjdk.jmh.annotations.Scope.Thread)
public class CoreBenchmarks {

	private static final dev.reqctx.ContextKey<String> REQCTX_KEY = dev.reqctx.ContextKey.named("tenant");

	private static final Context.Key<String> GRPC_KEY = Context.key("tenant");

	private static final io.opentelemetry.context.ContextKey<String> OTEL_KEY = io.opentelemetry.context.ContextKey
		.named("tenant");

	private static final ThreadLocal<Object> THREAD_LOCAL = new ThreadLocal<>();

	private static final ScheduledExecutorService GRPC_SCHEDULER = Executors.newSingleThreadScheduledExecutor((r) -> {
		Thread t = new Thread(r, "grpc-deadline-timer");
		t.setDaemon(true);
		return t;
	});

	private RequestContext reqctxContext;

	private RequestContext reqctxWithValue;

	private Context grpcContext;

	private Context grpcWithValue;

	private io.opentelemetry.context.Context otelContext;

	private io.opentelemetry.context.Context otelWithValue;

	private dev.reqctx.Scope bound;

	private Context grpcPrevious;

	private io.opentelemetry.context.Scope otelBound;

	private CancellableContext reqctxTimed;

	private Context.CancellableContext grpcTimed;

	@Setup(Level.Trial)
	public void setUp() {
		this.reqctxContext = RequestContext.root().withValue(REQCTX_KEY, "acme");
		this.reqctxWithValue = this.reqctxContext;
		this.grpcContext = Context.ROOT.withValue(GRPC_KEY, "acme");
		this.grpcWithValue = this.grpcContext;
		this.otelContext = io.opentelemetry.context.Context.root().with(OTEL_KEY, "acme");
		this.otelWithValue = this.otelContext;
		THREAD_LOCAL.set("acme");
		// Bind a context on the benchmark thread so current() reads a real binding.
		this.bound = this.reqctxContext.attach();
		this.grpcPrevious = this.grpcContext.attach();
		this.otelBound = this.otelContext.makeCurrent();
		this.reqctxTimed = this.reqctxContext.withTimeout(Duration.ofHours(1));
		this.grpcTimed = this.grpcContext.withDeadlineAfter(1, TimeUnit.HOURS, GRPC_SCHEDULER);
	}

	@TearDown(Level.Trial)
	public void tearDown() {
		this.grpcTimed.cancel(null);
		this.reqctxTimed.close();
		this.otelBound.close();
		this.grpcContext.detach(this.grpcPrevious);
		this.bound.close();
		THREAD_LOCAL.remove();
	}

	// current(): read the context bound to this thread.

	@Benchmark
	public Object threadLocalGet() {
		return THREAD_LOCAL.get();
	}

	@Benchmark
	public Object reqctxCurrent() {
		return RequestContext.current();
	}

	@Benchmark
	public Object grpcCurrent() {
		return Context.current();
	}

	@Benchmark
	public Object otelCurrent() {
		return io.opentelemetry.context.Context.current();
	}

	// attach + close: bind a context and restore the previous one.

	@Benchmark
	public void threadLocalSetRestore() {
		Object previous = THREAD_LOCAL.get();
		THREAD_LOCAL.set(this);
		THREAD_LOCAL.set(previous);
	}

	@Benchmark
	public void reqctxAttachClose() {
		try (dev.reqctx.Scope scope = this.reqctxWithValue.attach()) {
			// nothing: the cost of the binding itself
		}
	}

	@Benchmark
	public void grpcAttachDetach() {
		Context previous = this.grpcWithValue.attach();
		this.grpcWithValue.detach(previous);
	}

	@Benchmark
	public void otelMakeCurrentClose() {
		try (io.opentelemetry.context.Scope scope = this.otelWithValue.makeCurrent()) {
			// nothing
		}
	}

	// attach, read the current value, detach: the common "get" path.

	@Benchmark
	public Object reqctxAttachGetClose() {
		try (dev.reqctx.Scope scope = this.reqctxWithValue.attach()) {
			return REQCTX_KEY.get();
		}
	}

	@Benchmark
	public Object grpcAttachGetDetach() {
		Context previous = this.grpcWithValue.attach();
		try {
			return GRPC_KEY.get();
		}
		finally {
			this.grpcWithValue.detach(previous);
		}
	}

	// withValue + lookup.

	@Benchmark
	public Object reqctxWithValueGet() {
		return this.reqctxContext.withValue(REQCTX_KEY, "globex").get(REQCTX_KEY);
	}

	@Benchmark
	public Object grpcWithValueGet() {
		return GRPC_KEY.get(this.grpcContext.withValue(GRPC_KEY, "globex"));
	}

	@Benchmark
	public Object otelWithGet() {
		return this.otelContext.with(OTEL_KEY, "globex").get(OTEL_KEY);
	}

	// withTimeout + cancel: a deadline scheduled on a timer, then cancelled before it fires.

	@Benchmark
	public boolean reqctxWithTimeoutCancel() {
		CancellableContext ctx = this.reqctxContext.withTimeout(Duration.ofSeconds(30));
		return ctx.cancel();
	}

	@Benchmark
	public boolean grpcWithDeadlineAfterCancel() {
		Context.CancellableContext ctx = this.grpcContext.withDeadlineAfter(30, TimeUnit.SECONDS, GRPC_SCHEDULER);
		return ctx.cancel(null);
	}

	// withCancel + cancel: a cancellable child without a timer.

	@Benchmark
	public boolean reqctxWithCancelCancel() {
		CancellableContext ctx = this.reqctxContext.withCancel();
		return ctx.cancel();
	}

	@Benchmark
	public boolean grpcWithCancelCancel() {
		Context.CancellableContext ctx = this.grpcContext.withCancellation();
		return ctx.cancel(null);
	}

	// The same, with the context handed to a Blackhole first: it escapes, as a scope passed to
	// other code does, so the JIT cannot scalar-replace it (reqctx's then costs ~0.6 ns).

	@Benchmark
	public boolean reqctxWithCancelCancelEscaping(Blackhole blackhole) {
		CancellableContext ctx = this.reqctxContext.withCancel();
		blackhole.consume(ctx);
		return ctx.cancel();
	}

	@Benchmark
	public boolean grpcWithCancelCancelEscaping(Blackhole blackhole) {
		Context.CancellableContext ctx = this.grpcContext.withCancellation();
		blackhole.consume(ctx);
		return ctx.cancel(null);
	}

	// The time left before a context's deadline: what every SQL statement and outbound call reads.

	@Benchmark
	public long reqctxRemainingNanos() {
		return this.reqctxTimed.remainingNanos();
	}

	@Benchmark
	public long grpcTimeRemaining() {
		return this.grpcTimed.getDeadline().timeRemaining(TimeUnit.NANOSECONDS);
	}

}
