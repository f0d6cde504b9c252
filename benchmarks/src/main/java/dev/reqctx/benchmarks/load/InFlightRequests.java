package dev.reqctx.benchmarks.load;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.Deadline;
import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.RequestInfo;

/**
 * Keeps a number of request contexts in flight inside the sample service, made and registered
 * in the application's runtime the way the servlet filter makes and registers them, for {@code endpoint-scale.sh}: holding
 * 10,000 real HTTP requests open at once would measure the client, not the endpoint. A
 * background thread keeps replacing them (one finishes, another starts, about every 100 µs), so
 * the registry changes while the endpoint lists it.
 *
 * <p>Not a Spring component on purpose (the benchmarks module does not depend on Spring's
 * context): the script names it in {@code --spring.main.sources}, which makes it a bean, and its
 * constructor starts the work. The count comes from the system property
 * {@code reqctx.bench.in-flight} (default 10,000).
 */
public final class InFlightRequests {

	private final CancellableContext[] contexts;

	private final ContextRuntime runtime;

	private long sequence;

	public InFlightRequests(ContextRuntime runtime) {
		this.runtime = runtime;
		this.contexts = new CancellableContext[Integer.getInteger("reqctx.bench.in-flight", 10_000)];
		for (int i = 0; i < this.contexts.length; i++) {
			this.contexts[i] = start();
		}
		Thread churn = new Thread(this::churn, "in-flight-churn");
		churn.setDaemon(true);
		churn.start();
	}

	private CancellableContext start() {
		long n = this.sequence++;
		CancellableContext ctx = Contexts.newRoot(this.runtime,
				RequestContext.root().withValue(StandardKeys.REQUEST_ID, "synthetic-" + n), ContextKind.REQUEST,
				new RequestInfo("GET", "/synthetic/" + (n % 100)), 5 + (n % 300), TimeUnit.MINUTES);
		Contexts.register(ctx);
		return ctx;
	}

	private void churn() {
		if (this.contexts.length == 0) {
			return;
		}
		for (int i = 0;; i = (i + 1) % this.contexts.length) {
			CancellableContext done = this.contexts[i];
			done.cancel(CancellationCause.COMPLETED);
			Contexts.unregister(done);
			this.contexts[i] = start();
			LockSupport.parkNanos(100_000);
		}
	}

}
