package dev.reqctx.actuate;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * The live view's page: one self-contained HTML resource (inline style and script, nothing
 * loaded from elsewhere) and the Content-Security-Policy it is served with.
 *
 * <p>The policy allows exactly the page's own style and script, by their SHA-256 hashes, and
 * fetches from the page's origin only: no {@code 'unsafe-inline'}, so even a rendering bug that
 * let markup from the data into the page could not run a script or an event handler.
 */
final class LiveViewPage {

	static final String RESOURCE = "live-view.html";

	private final String html;

	private final String contentSecurityPolicy;

	private LiveViewPage(String html) {
		// The browser hashes the element's text after the HTML parser turned every CR LF into LF;
		// a checkout with CR LF line ends must not make the hashes differ.
		this.html = html.replace("\r\n", "\n").replace('\r', '\n');
		this.contentSecurityPolicy = "default-src 'none'; script-src '" + hash(element(this.html, "script"))
				+ "'; style-src '" + hash(element(this.html, "style"))
				+ "'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
	}

	static LiveViewPage load() {
		try (InputStream in = LiveViewPage.class.getResourceAsStream(RESOURCE)) {
			if (in == null) {
				throw new IllegalStateException("The live view's page " + RESOURCE + " is missing from "
						+ LiveViewPage.class.getPackageName());
			}
			return new LiveViewPage(new String(in.readAllBytes(), StandardCharsets.UTF_8));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	String html() {
		return this.html;
	}

	String contentSecurityPolicy() {
		return this.contentSecurityPolicy;
	}

	/** The text of the page's only {@code <tag>} element, which has no attributes. */
	private static String element(String html, String tag) {
		String open = "<" + tag + ">";
		String close = "</" + tag + ">";
		int start = html.indexOf(open);
		int end = html.indexOf(close, start);
		if (start < 0 || end < 0 || html.indexOf(open, start + open.length()) >= 0) {
			throw new IllegalStateException(RESOURCE + " must hold exactly one " + open + " element");
		}
		return html.substring(start + open.length(), end);
	}

	private static String hash(String text) {
		try {
			byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
			return "sha256-" + Base64.getEncoder().encodeToString(digest);
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException("Every Java platform has SHA-256", ex);
		}
	}

}
