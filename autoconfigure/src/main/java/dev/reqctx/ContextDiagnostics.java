package dev.reqctx;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reports misuse of the context API: scopes closed on the wrong thread, out of order or twice,
 * and listeners that throw. Each report is logged at WARN (through {@link System.Logger}, which
 * Spring Boot routes to its logging system) and counted.
 *
 * <p>In strict mode ({@link #setStrict(boolean)}) the stack of every attach is captured, so a
 * report says where the offending scope was opened. Strict mode costs a stack capture per
 * attach: use it in tests and while hunting a leak, not in production.
 */
public final class ContextDiagnostics {

	private static final Logger LOGGER = System.getLogger("dev.reqctx.RequestContext");

	private static final AtomicLong MISUSES = new AtomicLong();

	private static final AtomicLong LISTENER_FAILURES = new AtomicLong();

	private static final AtomicReference<String> LAST_MISUSE = new AtomicReference<>();

	private static final AtomicReference<Throwable> LAST_MISUSE_SITE = new AtomicReference<>();

	static volatile boolean strict;

	private ContextDiagnostics() {
	}

	/**
	 * Turns strict mode on or off.
	 * @param enabled whether to capture attach stacks
	 */
	public static void setStrict(boolean enabled) {
		strict = enabled;
	}

	/**
	 * Returns whether strict mode is on.
	 * @return {@code true} if attach stacks are captured
	 */
	public static boolean isStrict() {
		return strict;
	}

	/**
	 * Returns how many misuses were reported since the JVM started.
	 * @return the count
	 */
	public static long misuseCount() {
		return MISUSES.get();
	}

	/**
	 * Returns the message of the most recent misuse report.
	 * @return the message, or {@code null} if there was none
	 */
	public static String lastMisuse() {
		return LAST_MISUSE.get();
	}

	/**
	 * Returns where the context of the most recent "left bound" report was attached.
	 * @return the attach site (strict mode only), or {@code null}
	 */
	public static Throwable lastMisuseSite() {
		return LAST_MISUSE_SITE.get();
	}

	/**
	 * Returns how many cancel listeners threw since the JVM started.
	 * @return the count
	 */
	public static long listenerFailureCount() {
		return LISTENER_FAILURES.get();
	}

	static void misuse(String message) {
		MISUSES.incrementAndGet();
		LAST_MISUSE.set(message);
		Throwable where = new IllegalStateException("Scope misuse detected here");
		LOGGER.log(Level.WARNING, message, where);
	}

	static void listenerFailed(CancellableContext ctx, Throwable ex) {
		LISTENER_FAILURES.incrementAndGet();
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
	public static boolean checkThreadClean(Object what) {
		Scope.Binding binding = Scope.currentBinding();
		if (binding == null || (binding.context == null && binding.depth == 0)) {
			return true;
		}
		String message = "Thread '" + Thread.currentThread().getName() + "' still had " + binding.context
				+ " bound (" + binding.depth + " open scope(s)) before " + what + "; cleared";
		MISUSES.incrementAndGet();
		LAST_MISUSE.set(message);
		Throwable site = (binding.attachSites != null && binding.depth < binding.attachSites.length)
				? binding.attachSites[binding.depth] : null;
		LAST_MISUSE_SITE.set(site);
		LOGGER.log(Level.WARNING, (site != null) ? message + "; it was attached at:"
				: message + "; set reqctx.strict=true to see where it was attached", site);
		binding.context = null;
		binding.depth = 0;
		binding.attachSites = null;
		return false;
	}

}
