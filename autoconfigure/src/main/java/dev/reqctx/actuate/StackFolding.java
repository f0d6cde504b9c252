package dev.reqctx.actuate;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Presents the stack of a thread running a request, in full or folded so that the
 * application's own frames are not lost among the framework's.
 *
 * <p>In a JPA application a request blocked on the database has well over a hundred frames, and
 * the application's few are deep inside them: under the driver, the pool, Hibernate and Spring
 * Data above, and the transaction and AOP proxies, Spring MVC and the servlet container around
 * them. Folded, the stack keeps verbatim:
 * <ul>
 * <li>the top frames, which say where the thread is blocked (a socket read, a lock): at least
 * {@value #TOP_FRAMES}, and down to the first frame outside the JDK, which names the code that
 * blocked (on a virtual thread parking alone takes ten JDK frames);</li>
 * <li>every application frame;</li>
 * <li>the frame each application frame called: the framework's entry point, which names what
 * the application was waiting on (the repository method on its proxy, the service's
 * transactional proxy).</li>
 * </ul>
 * Every other run of frames becomes one line that counts them and names their packages (first
 * two segments, in order of appearance), such as
 * {@code "… 37 frames in org.springframework, org.hibernate, jdk.internal"}; a run of a single
 * frame is kept as it is, since folding it would save nothing.
 *
 * <p>Application frames are those of classes in the application's packages (and their
 * sub-packages). When no package is known they are those of classes outside well-known
 * framework and JDK packages. Generated classes (JDK and CGLIB proxies, lambdas) are never
 * application frames, whatever their package.
 *
 * <p>Either way the result has at most {@value #MAX_FRAMES} entries and then one line
 * {@code "… N more frames"}, so that a runaway recursion cannot make the response huge.
 */
final class StackFolding {

	/** How many frames at the top of the stack are kept at least. */
	static final int TOP_FRAMES = 10;

	/** The most entries shown before the rest is summed up in one line. */
	static final int MAX_FRAMES = 1024;

	/** The most package names a folded line lists. */
	static final int MAX_PACKAGES = 8;

	private static final String ELLIPSIS = "\u2026";

	/** Used only when the application's packages are unknown. */
	private static final String[] FRAMEWORK_PACKAGES = { "java.", "javax.", "jakarta.", "jdk.", "sun.", "com.sun.",
			"org.springframework.", "org.apache.", "org.hibernate.", "org.eclipse.jetty.", "io.undertow.",
			"org.jboss.", "com.zaxxer.", "org.postgresql.", "org.h2.", "io.micrometer.", "io.opentelemetry.",
			"dev.reqctx.", "reactor.", "io.netty.", "ch.qos.logback.", "org.slf4j.", "tools.jackson.",
			"com.fasterxml.jackson.", "org.aspectj.", "net.bytebuddy.", "kotlin.", "kotlinx." };

	private static final String[] JDK_PACKAGES = { "java.", "javax.", "jdk.", "sun.", "com.sun." };

	/** Parts of the names of generated classes. */
	private static final String[] GENERATED = { "$$SpringCGLIB$$", "$$Lambda", "$HibernateProxy$", "$ByteBuddy$" };

	private final List<String> applicationPackages;

	/**
	 * Creates a folding for an application.
	 * @param applicationPackages the application's packages, such as {@code com.example.shop};
	 * when empty, application frames are those outside well-known framework packages
	 */
	StackFolding(Collection<String> applicationPackages) {
		List<String> prefixes = new ArrayList<>(applicationPackages.size());
		for (String pkg : applicationPackages) {
			// An application in the default package has no package to match: use the heuristic.
			if (!pkg.isBlank()) {
				prefixes.add(pkg.strip() + ".");
			}
		}
		this.applicationPackages = List.copyOf(prefixes);
	}

	/**
	 * Presents a stack.
	 * @param trace the stack, innermost frame first, as {@link Thread#getStackTrace()} returns it
	 * @param mode folded or full
	 * @return one string per frame or folded run, innermost first
	 */
	List<String> present(StackTraceElement[] trace, StackMode mode) {
		return (mode == StackMode.FULL) ? full(trace) : folded(trace);
	}

	private List<String> full(StackTraceElement[] trace) {
		int shown = Math.min(trace.length, MAX_FRAMES);
		List<String> stack = new ArrayList<>(shown + 1);
		for (int i = 0; i < shown; i++) {
			stack.add(trace[i].toString());
		}
		if (shown < trace.length) {
			stack.add(more(trace.length - shown));
		}
		return stack;
	}

	private List<String> folded(StackTraceElement[] trace) {
		int top = TOP_FRAMES;
		for (int i = 0; i < trace.length; i++) {
			if (!startsWithAny(trace[i].getClassName(), JDK_PACKAGES)) {
				top = Math.max(top, i + 1);
				break;
			}
		}
		boolean[] kept = new boolean[trace.length];
		for (int i = 0; i < trace.length; i++) {
			if (i < top || isApplicationFrame(trace[i])) {
				kept[i] = true;
				if (i > 0) {
					kept[i - 1] = true;
				}
			}
		}
		List<String> stack = new ArrayList<>();
		int i = 0;
		while (i < trace.length) {
			if (stack.size() == MAX_FRAMES) {
				stack.add(more(trace.length - i));
				break;
			}
			if (kept[i]) {
				stack.add(trace[i++].toString());
				continue;
			}
			int end = i + 1;
			while (end < trace.length && !kept[end]) {
				end++;
			}
			stack.add((end - i == 1) ? trace[i].toString() : fold(trace, i, end));
			i = end;
		}
		return stack;
	}

	private boolean isApplicationFrame(StackTraceElement frame) {
		String className = frame.getClassName();
		if (isGenerated(className)) {
			return false;
		}
		if (!this.applicationPackages.isEmpty()) {
			for (String pkg : this.applicationPackages) {
				if (className.startsWith(pkg)) {
					return true;
				}
			}
			return false;
		}
		return !startsWithAny(className, FRAMEWORK_PACKAGES);
	}

	private static boolean startsWithAny(String className, String[] packages) {
		for (String pkg : packages) {
			if (className.startsWith(pkg)) {
				return true;
			}
		}
		return false;
	}

	private static boolean isGenerated(String className) {
		if (className.startsWith("jdk.proxy") || className.startsWith("com.sun.proxy.")
				|| className.startsWith("$Proxy", className.lastIndexOf('.') + 1)) {
			return true;
		}
		for (String marker : GENERATED) {
			if (className.contains(marker)) {
				return true;
			}
		}
		return false;
	}

	private static String fold(StackTraceElement[] trace, int from, int to) {
		Set<String> packages = new LinkedHashSet<>();
		for (int i = from; i < to; i++) {
			packages.add(topLevelPackage(trace[i].getClassName()));
		}
		StringBuilder line = new StringBuilder(ELLIPSIS).append(' ').append(to - from).append(" frames in ");
		int listed = 0;
		for (String pkg : packages) {
			if (listed == MAX_PACKAGES) {
				line.append(" and ").append(packages.size() - listed).append(" more");
				break;
			}
			if (listed > 0) {
				line.append(", ");
			}
			line.append(pkg);
			listed++;
		}
		return line.toString();
	}

	/** The first two segments of a class's package ({@code org.hibernate}, {@code jdk.internal}). */
	private static String topLevelPackage(String className) {
		int lastDot = className.lastIndexOf('.');
		if (lastDot < 0) {
			return className;
		}
		int first = className.indexOf('.');
		int second = (first < lastDot) ? className.indexOf('.', first + 1) : -1;
		return className.substring(0, (second > 0) ? second : first);
	}

	private static String more(int frames) {
		return ELLIPSIS + " " + frames + " more frames";
	}

}
