package dev.reqctx.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Collection;
import java.util.List;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * A JMH profiler that reports the CPU time the benchmark's worker threads spent per operation,
 * as {@code cpu.time.norm} in ns/op: {@code -prof dev.reqctx.benchmarks.ThreadCpuProfiler}.
 *
 * <p>On this project's shared machine a benchmark thread often waits for one of the two cores
 * (load 5 to 20 from other builds), and JMH's wall-clock time per operation then swings by 2x
 * between identical runs. A thread's own CPU time leaves the waiting out; what other processes
 * still do to it (caches, a busy sibling hyperthread) is the same for both sides of an
 * alternating A/B run.
 */
public final class ThreadCpuProfiler implements InternalProfiler {

	private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();

	private long cpuNanosBefore;

	@Override
	public String getDescription() {
		return "CPU time of the benchmark's worker threads per operation";
	}

	@Override
	public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
		this.cpuNanosBefore = workerCpuNanos();
	}

	@Override
	public Collection<? extends Result> afterIteration(BenchmarkParams benchmarkParams,
			IterationParams iterationParams, IterationResult result) {
		long cpuNanos = workerCpuNanos() - this.cpuNanosBefore;
		long ops = result.getMetadata().getAllOps();
		if (ops <= 0) {
			return List.of();
		}
		return List.of(new ScalarResult("cpu.time.norm", cpuNanos / (double) ops, "ns/op", AggregationPolicy.AVG));
	}

	/** JMH runs the benchmark on a pool of threads named {@code ...-jmh-worker-N}, kept for the trial. */
	private long workerCpuNanos() {
		long total = 0;
		for (Thread thread : Thread.getAllStackTraces().keySet()) {
			if (thread.getName().contains("jmh-worker")) {
				total += Math.max(0, this.threads.getThreadCpuTime(thread.getId()));
			}
		}
		return total;
	}

}
