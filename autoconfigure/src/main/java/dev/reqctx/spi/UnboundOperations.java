package dev.reqctx.spi;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import dev.reqctx.ContextRuntime;
import dev.reqctx.Scope;

/**
 * The broken-chain detector: SQL or outbound HTTP that runs on a thread with no context bound
 * while requests are in flight usually means that propagation broke on the way (an executor
 * nobody wrapped, {@code new Thread}, a library's own pool), so the work runs without the
 * request's deadline and cancel. Integrations call {@link #check(String)} where they find no
 * context; reported operations are counted by call site, the first application frame that led
 * to them, and the first stack of each call site is kept.
 *
 * <p>Work that is meant to run without a request is not reported: with no request in flight
 * (start-up, an idle service), or in a root of its own (a scheduled job, a listener's message,
 * a {@code UnitOfWork}), or under {@link dev.reqctx.RequestContext#detached()} attached on
 * purpose, a context is bound or nothing is live. Bounded: at most {@link #MAX_CALL_SITES}
 * call sites are told apart, the rest counted together.
 */
public final class UnboundOperations {

	/** How many call sites are told apart; others are counted under {@link #OTHER}. */
	public static final int MAX_CALL_SITES = 100;

	/** The call site of operations beyond {@link #MAX_CALL_SITES}. */
	public static final String OTHER = "(other call sites)";

	/** A detector that reports nothing, for when detection is off. */
	public static final UnboundOperations NONE = new UnboundOperations();

	private static final int MAX_STACK = 64;

	/** Packages of frameworks and of reqctx itself: never the call site. */
	private static final String[] FRAMEWORK_PREFIXES = { "dev.reqctx.", "java.", "javax.", "jdk.", "sun.", "com.sun.",
			"jakarta.", "org.springframework.", "org.apache.", "org.hibernate.", "com.zaxxer.", "org.postgresql.",
			"org.h2.", "com.mysql.", "oracle.", "io.micrometer.", "reactor.", "io.netty.", "org.eclipse.jetty.",
			"kotlin.", "org.jspecify." };

	private static final StackWalker WALKER = StackWalker.getInstance();

	private final ContextRuntime runtime;

	private final Supplier<ContextObserver> observer;

	private final ConcurrentMap<String, Site> sites = new ConcurrentHashMap<>();

	private UnboundOperations() {
		this.runtime = null;
		this.observer = () -> ContextObserver.NONE;
	}

	/**
	 * Creates a detector for the given application.
	 * @param runtime the application whose requests in flight make unbound work suspicious
	 * @param observer supplies the observer told about each report (the
	 * {@code reqctx.operations.unbound} meter)
	 */
	public UnboundOperations(ContextRuntime runtime, Supplier<ContextObserver> observer) {
		this.runtime = Objects.requireNonNull(runtime, "runtime must not be null");
		this.observer = Objects.requireNonNull(observer, "observer must not be null");
	}

	/**
	 * Called by an integration that found no cancellable context for an operation: reports it if
	 * no context at all is bound to the calling thread while requests are in flight.
	 * @param operation the operation's kind, {@code "jdbc"} or {@code "http"}
	 */
	public void check(String operation) {
		if (this.runtime == null || Scope.isAnyBound() || this.runtime.live().isEmpty()) {
			return;
		}
		String callSite = WALKER.walk((frames) -> frames.filter((frame) -> !isFramework(frame.getClassName()))
			.findFirst()
			.map(StackWalker.StackFrame::toStackTraceElement)
			.map(StackTraceElement::toString)
			.orElse("(no application frame)"));
		String key = operation + ' ' + callSite;
		Site site = this.sites.get(key);
		if (site == null) {
			if (this.sites.size() >= MAX_CALL_SITES) {
				key = operation + ' ' + OTHER;
				callSite = OTHER;
			}
			String finalSite = callSite;
			site = this.sites.computeIfAbsent(key, (k) -> new Site(operation, finalSite, Thread.currentThread().getName(),
					stack()));
		}
		site.count.incrementAndGet();
		this.observer.get().operationUnbound(operation);
	}

	/**
	 * Returns the call sites reported so far, the most frequent first.
	 * @return a snapshot of the call sites
	 */
	public List<CallSite> callSites() {
		List<CallSite> list = new ArrayList<>(this.sites.size());
		for (Site site : this.sites.values()) {
			list.add(new CallSite(site.operation, site.callSite, site.count.get(), site.firstSeen, site.thread,
					site.stack));
		}
		list.sort(Comparator.comparingLong(CallSite::count).reversed());
		return list;
	}

	private static boolean isFramework(String className) {
		for (String prefix : FRAMEWORK_PREFIXES) {
			if (className.startsWith(prefix)) {
				return true;
			}
		}
		return className.contains("$$SpringCGLIB$$") || className.startsWith("$Proxy");
	}

	private static List<String> stack() {
		return WALKER.walk((frames) -> frames.limit(MAX_STACK)
			.map((frame) -> frame.toStackTraceElement().toString())
			.collect(Collectors.toUnmodifiableList()));
	}

	/**
	 * One call site of unbound operations.
	 *
	 * @param operation the operations' kind
	 * @param callSite the first application frame that led to them
	 * @param count how many were reported
	 * @param firstSeen when the first was
	 * @param thread the thread the first ran on
	 * @param stack the first one's stack, innermost frame first, at most 64 frames
	 */
	public record CallSite(String operation, String callSite, long count, Instant firstSeen, String thread,
			List<String> stack) {
	}

	private static final class Site {

		final String operation;

		final String callSite;

		final String thread;

		final List<String> stack;

		final Instant firstSeen = Instant.now();

		final AtomicLong count = new AtomicLong();

		Site(String operation, String callSite, String thread, List<String> stack) {
			this.operation = operation;
			this.callSite = callSite;
			this.thread = thread;
			this.stack = stack;
		}

	}

}
