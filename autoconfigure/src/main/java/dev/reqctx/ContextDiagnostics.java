package dev.reqctx;

import java.lang.System.Logger.Level;
import java.lang.System.Logger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reports misuse of the context API: scopes closed on the wrong thread, out of order or twice,
 * and listeners that throw. Each report is logged at WARN (through {@link System.Logger}, which
 * Spring Boot routes to its logging system) and counted.
 *
 * <p>Each {@link ContextRuntime} has its own: a report counts in the runtime of the context
 * concerned, so two applications in one JVM keep separate counts.
 *
 * <p>In strict mode ({@code reqctx.strict}) the stack of every attach is captured, so a report
 * says where the offending scope was opened. Strict mode costs a stack capture per attach: use
 * it in tests and while hunting a leak, not in production.
 */
public final class ContextDiagnostics {

	private static final Logger LOGGER = System.getLogger("dev.reqctx.RequestContext");

	private final AtomicLong misuses = new AtomicLong();

	private final AtomicLong listenerFailures = new AtomicLong();

	private final AtomicReference<String> lastMisuse = new AtomicReference<>();

	private final AtomicReference<Throwable> lastMisuseSite = new AtomicReference<>();

	final boolean strict;

	ContextDiagnostics(boolean strict) {
		this.strict = strict;
	}

	/**
	 * Returns whether strict mode is on.
	 * @return {@code true} if attach stacks are captured
	 */
	public boolean isStrict() {
		return this.strict;
	}

	/**
	 * Returns how many misuses were reported since this runtime was created.
	 * @return the count
	 */
	public long misuseCount() {
		return this.misuses.get();
	}

	/**
	 * Returns the message of the most recent misuse report.
	 * @return the message, or {@code null} if there was none
	 */
	public String lastMisuse() {
		return this.lastMisuse.get();
	}

	/**
	 * Returns where the context of the most recent "left bound" report was attached.
	 * @return the attach site (strict mode only), or {@code null}
	 */
	public Throwable lastMisuseSite() {
		return this.lastMisuseSite.get();
	}

	/**
	 * Returns how many cancel listeners threw since this runtime was created.
	 * @return the count
	 */
	public long listenerFailureCount() {
		return this.listenerFailures.get();
	}

	void misuse(String message) {
		this.misuses.incrementAndGet();
		this.lastMisuse.set(message);
		Throwable where = new IllegalStateException("Scope misuse detected here");
		LOGGER.log(Level.WARNING, message, where);
	}

	void listenerFailed(CancellableContext ctx, Throwable ex) {
		this.listenerFailures.incrementAndGet();
		LOGGER.log(Level.WARNING, "A cancel listener of " + ctx + " failed", ex);
	}

	static void recordAttach(Scope.Binding binding, int depth) {
		Throwable[] sites = binding.attachSites;
		if (sites == null || sites.length <= depth) {
			Throwable[] grown = new Throwable[Math.max(8, depth * 2)];
			if (sites != null) {
				System.arraycopy(sites, 0, grown, 0, sites.length);
			}
			binding.attachSites = grown;
			sites = grown;
		}
		sites[depth] = new Throwable("Context attached here");
	}

	static void recordDetach(Scope.Binding binding, int depth) {
		Throwable[] sites = binding.attachSites;
		if (sites != null) {
			for (int i = depth + 1; i < sites.length && sites[i] != null; i++) {
				sites[i] = null;
			}
		}
	}

	/**
	 * Checks that no context is bound to the calling thread, for code that hands a pooled thread
	 * back or starts unrelated work on it. If one is bound this is reported (with the stack of
	 * the attach in strict mode) and the binding is cleared, so the next piece of work starts
	 * clean.
	 * @param what what the thread is about to do, for the report
	 * @return {@code true} if the thread was clean
	 */
	public boolean checkThreadClean(Object what) {
		Scope.Binding binding = Scope.currentBinding();
		if (binding == null || (binding.context == null && binding.depth == 0)) {
			return true;
		}
		String message = "Thread '" + Thread.currentThread().getName() + "' still had " + binding.context
				+ " bound (" + binding.depth + " open scope(s)) before " + what + "; cleared";
		this.misuses.incrementAndGet();
		this.lastMisuse.set(message);
		Throwable site = (binding.attachSites != null && binding.depth < binding.attachSites.length)
				? binding.attachSites[binding.depth] : null;
		this.lastMisuseSite.set(site);
		LOGGER.log(Level.WARNING, (site != null) ? message + "; it was attached at:"
				: message + "; set reqctx.strict=true to see where it was attached", site);
		binding.context = null;
		binding.depth = 0;
		binding.attachSites = null;
		return false;
	}

}
