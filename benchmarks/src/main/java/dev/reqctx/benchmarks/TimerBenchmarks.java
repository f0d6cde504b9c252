package dev.reqctx.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellableContext;
import dev.reqctx.RequestContext;
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

/**
 * Scheduling and cancelling a deadline with 0, 1,000 and 10,000 other deadlines pending: the
 * timer must stay flat (a heap with indexed removal, not a list that is purged).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@State(org.openjdk.jmh.annotations.Scope.Thread)
public class TimerBenchmarks {

	@Param({ "0", "1000", "10000" })
	public int pending;

	private final List<CancellableContext> others = new ArrayList<>();

	@Setup(Level.Trial)
	public void setUp() {
		for (int i = 0; i < this.pending; i++) {
			// Spread over the next ten minutes, like the deadlines of requests in flight.
			this.others.add(RequestContext.root().withTimeout(Duration.ofMillis(60_000 + (i * 53L) % 540_000)));
		}
	}

	@TearDown(Level.Trial)
	public void tearDown() {
		this.others.forEach(CancellableContext::close);
	}

	@Benchmark
	public boolean scheduleAndCancel() {
		CancellableContext ctx = RequestContext.root().withTimeout(Duration.ofSeconds(30));
		return ctx.cancel();
	}

}
