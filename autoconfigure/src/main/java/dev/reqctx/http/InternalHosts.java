package dev.reqctx.http;

import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The hosts an application declares internal: the only ones that get the request id and the
 * propagated inbound headers of {@link ContextPropagatingInterceptor}.
 *
 * <p>A pattern is one of:
 * <ul>
 * <li>a host name or IP literal, matched exactly and case-insensitively against the host of the
 * call's URI as written ({@code localhost} and {@code 127.0.0.1} are different hosts, so are
 * {@code [::1]} and {@code [0:0:0:0:0:0:0:1]}); an IPv6 literal is written in brackets;
 * <li>{@code *.example.internal}: any subdomain of {@code example.internal}, at any depth, but
 * not {@code example.internal} itself;
 * <li>either of these followed by {@code :port}, which restricts it to that port: the URI's
 * port, or {@code 80} for {@code http} and {@code 443} for {@code https} when it has none;
 * <li>{@code *} alone: every host, on every port.
 * </ul>
 *
 * <p>Patterns are parsed once; matching a call allocates nothing and runs no regular
 * expression.
 */
final class InternalHosts {

	private static final String EXAMPLES = "such as api.example.internal, 10.0.0.7, [::1], *.example.internal, "
			+ "api.example.internal:8443 or *";

	static final InternalHosts NONE = new InternalHosts(new Pattern[0], false, List.of());

	private final Pattern[] patterns;

	private final boolean all;

	private final List<String> declared;

	private InternalHosts(Pattern[] patterns, boolean all, List<String> declared) {
		this.patterns = patterns;
		this.all = all;
		this.declared = declared;
	}

	/**
	 * Parses the given patterns.
	 * @param patterns the patterns; empty to declare no host internal
	 * @return the hosts
	 * @throws IllegalArgumentException if a pattern is not one of the forms above
	 */
	static InternalHosts of(Collection<String> patterns) {
		Objects.requireNonNull(patterns, "patterns must not be null");
		List<Pattern> parsed = new ArrayList<>(patterns.size());
		List<String> declared = new ArrayList<>(patterns.size());
		boolean all = false;
		for (String pattern : patterns) {
			String trimmed = check(pattern);
			declared.add(trimmed);
			if (trimmed.equals("*")) {
				all = true;
			}
			else {
				parsed.add(parse(trimmed));
			}
		}
		if (declared.isEmpty()) {
			return NONE;
		}
		return new InternalHosts(parsed.toArray(new Pattern[0]), all, List.copyOf(declared));
	}

	/** Rejects what is not a host at all: nothing, a URL, a path, whitespace. */
	private static String check(String pattern) {
		if (pattern == null || pattern.isBlank()) {
			throw invalid(pattern, "is empty");
		}
		String trimmed = pattern.trim();
		if (trimmed.contains("://")) {
			throw invalid(pattern, "has a scheme: write the host alone");
		}
		for (int i = 0; i < trimmed.length(); i++) {
			char c = trimmed.charAt(i);
			if (c == '/' || c == '?' || c == '#') {
				throw invalid(pattern, "has a path: write the host alone");
			}
			if (c == '@') {
				throw invalid(pattern, "has user info: write the host alone");
			}
			if (Character.isWhitespace(c)) {
				throw invalid(pattern, "contains whitespace");
			}
		}
		return trimmed;
	}

	private static Pattern parse(String pattern) {
		String host;
		String port;
		if (pattern.startsWith("[")) {
			int close = pattern.indexOf(']');
			if (close < 0) {
				throw invalid(pattern, "opens an IPv6 literal with '[' and does not close it");
			}
			host = pattern.substring(0, close + 1);
			String rest = pattern.substring(close + 1);
			if (!rest.isEmpty() && !rest.startsWith(":")) {
				throw invalid(pattern, "has '" + rest + "' after its IPv6 literal, where only :port may follow");
			}
			port = rest.isEmpty() ? null : rest.substring(1);
			checkIpv6(pattern, host.substring(1, host.length() - 1));
		}
		else {
			int colon = pattern.indexOf(':');
			if (colon >= 0 && pattern.indexOf(':', colon + 1) >= 0) {
				throw invalid(pattern, "looks like an IPv6 address: write it in brackets, such as [::1] or [::1]:8080");
			}
			host = (colon < 0) ? pattern : pattern.substring(0, colon);
			port = (colon < 0) ? null : pattern.substring(colon + 1);
		}
		int portNumber = (port != null) ? parsePort(pattern, port) : -1;
		if (host.equals("*")) {
			throw invalid(pattern, "restricts '*' to a port: '*' stands alone for every host on every port");
		}
		boolean subdomains = host.startsWith("*.");
		if (!host.startsWith("[")) {
			checkHostName(pattern, subdomains ? host.substring(2) : host);
		}
		String lowerCase = host.toLowerCase(Locale.ROOT);
		// "*.example.internal" is kept as ".example.internal": a host matches if it ends with it.
		return new Pattern(subdomains ? lowerCase.substring(1) : lowerCase, subdomains, portNumber);
	}

	private static int parsePort(String pattern, String port) {
		if (port.isEmpty() || port.length() > 5) {
			throw invalidPort(pattern, port);
		}
		int value = 0;
		for (int i = 0; i < port.length(); i++) {
			char c = port.charAt(i);
			if (c < '0' || c > '9') {
				throw invalidPort(pattern, port);
			}
			value = value * 10 + (c - '0');
		}
		if (value < 1 || value > 65535) {
			throw invalidPort(pattern, port);
		}
		return value;
	}

	private static void checkHostName(String pattern, String name) {
		if (name.isEmpty()) {
			throw invalid(pattern, "has no host");
		}
		if (name.indexOf('*') >= 0) {
			throw invalid(pattern, "has a '*' that is not its whole first label: write *.example.internal for "
					+ "the subdomains of example.internal, or * alone for every host");
		}
		if (name.startsWith(".") || name.endsWith(".") || name.contains("..")) {
			throw invalid(pattern, "has an empty label");
		}
		for (int i = 0; i < name.length(); i++) {
			char c = name.charAt(i);
			if (!(isAsciiLetterOrDigit(c) || c == '-' || c == '.' || c == '_')) {
				throw invalid(pattern, "has '" + c + "', which is not allowed in a host name");
			}
		}
	}

	private static void checkIpv6(String pattern, String address) {
		if (address.isEmpty() || address.indexOf(':') < 0) {
			throw invalid(pattern, "has no IPv6 address between its brackets");
		}
		for (int i = 0; i < address.length(); i++) {
			char c = address.charAt(i);
			if (!(isHexDigit(c) || c == ':' || c == '.')) {
				throw invalid(pattern, "has '" + c + "' in its IPv6 literal");
			}
		}
	}

	private static boolean isHexDigit(char c) {
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	}

	private static boolean isAsciiLetterOrDigit(char c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
	}

	private static IllegalArgumentException invalidPort(String pattern, String port) {
		return invalid(pattern, "has an invalid port '" + port + "': the port must be a number from 1 to 65535");
	}

	private static IllegalArgumentException invalid(String pattern, String problem) {
		String shown = (pattern != null) ? "'" + pattern + "'" : "null";
		return new IllegalArgumentException("Internal host pattern " + shown + " " + problem
				+ ". A pattern is a host name or IP literal, *.domain for its subdomains, either optionally with "
				+ ":port, or * for every host, " + EXAMPLES + ".");
	}

	/**
	 * Returns whether no host is internal.
	 * @return whether nothing was declared
	 */
	boolean isEmpty() {
		return this.declared.isEmpty();
	}

	/**
	 * Returns whether the host of the given URI is internal.
	 * @param uri the call's URI
	 * @return whether it may get the request id and the propagated headers
	 */
	boolean includes(URI uri) {
		if (this.all) {
			return true;
		}
		if (this.patterns.length == 0) {
			return false;
		}
		String host = uri.getHost();
		int port = uri.getPort();
		if (host == null) {
			// java.net.URI leaves the host undefined for a name it does not take for a server
			// name (one with an underscore, as in order_service:8080), which clients such as
			// Apache HttpClient still call: take it from the authority. Rare, so allocating is fine.
			String authority = uri.getRawAuthority();
			if (authority == null) {
				return false;
			}
			int start = authority.lastIndexOf('@') + 1;
			int colon = authority.lastIndexOf(':');
			boolean hasPort = colon >= start && authority.indexOf(']', colon) < 0;
			host = authority.substring(start, hasPort ? colon : authority.length());
			port = hasPort ? parsePortOrMinusOne(authority, colon + 1) : -1;
		}
		return includes(host, (port != -1) ? port : defaultPort(uri.getScheme()));
	}

	/**
	 * Returns whether the given host is internal.
	 * @param host the host as in a URI (an IPv6 literal in brackets)
	 * @param port the effective port, or {@code -1} if unknown
	 * @return whether it may get the request id and the propagated headers
	 */
	boolean includes(String host, int port) {
		if (this.all) {
			return true;
		}
		for (Pattern pattern : this.patterns) {
			if (pattern.matches(host, port)) {
				return true;
			}
		}
		return false;
	}

	private static int parsePortOrMinusOne(String authority, int from) {
		try {
			return Integer.parseInt(authority, from, authority.length(), 10);
		}
		catch (NumberFormatException ex) {
			return -1;
		}
	}

	private static int defaultPort(String scheme) {
		if ("http".equalsIgnoreCase(scheme)) {
			return 80;
		}
		if ("https".equalsIgnoreCase(scheme)) {
			return 443;
		}
		return -1;
	}

	@Override
	public String toString() {
		return this.declared.toString();
	}

	/**
	 * One pattern other than {@code *}.
	 * @param host the host in lower case, or for {@code subdomains} the suffix with its leading dot
	 * @param subdomains whether it matches the subdomains of the suffix
	 * @param port the port, or {@code -1} for any
	 */
	private record Pattern(String host, boolean subdomains, int port) {

		boolean matches(String candidate, int candidatePort) {
			if (this.port != -1 && this.port != candidatePort) {
				return false;
			}
			if (!this.subdomains) {
				return candidate.equalsIgnoreCase(this.host);
			}
			int offset = candidate.length() - this.host.length();
			// offset > 0: at least one character before the dot, so never the bare domain
			return offset > 0 && candidate.regionMatches(true, offset, this.host, 0, this.host.length());
		}

	}

}
