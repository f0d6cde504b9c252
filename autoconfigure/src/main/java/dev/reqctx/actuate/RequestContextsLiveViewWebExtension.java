package dev.reqctx.actuate;

import java.util.Set;

import jakarta.servlet.http.HttpServletResponse;

import org.springframework.boot.actuate.endpoint.Show;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.annotation.EndpointWebExtension;
import org.springframework.util.MimeType;

/**
 * {@link RequestContextsEndpointWebExtension} that also answers browsers: a {@code GET} of the
 * endpoint's path that asks for {@code text/html} gets the live view, a page that shows the
 * requests in flight as bars of elapsed against remaining budget and refreshes itself.
 *
 * <p>The page holds no data: its script reads the endpoint's JSON from the same path, so the
 * same security rules, masking and limits apply. It is a second read operation on the same path
 * that differs only in what it produces, so Spring MVC picks the one whose media type the caller
 * ranks higher: a JSON client ({@code application/json}, actuator's own media type, any type, or
 * no {@code Accept} at all) gets JSON as before.
 */
@EndpointWebExtension(endpoint = RequestContextsEndpoint.class)
public class RequestContextsLiveViewWebExtension extends RequestContextsEndpointWebExtension {

	// For "*/*" (or no Accept) both operations match equally well, and Spring MVC breaks the tie
	// by media type: application/... sorts before text/html, so JSON wins
	// (LiveViewContentNegotiationTests holds it to that). No charset parameter here: it would
	// make text/html the more specific match, and clients that accept anything would get the page.
	private static final String TEXT_HTML = "text/html";

	private static final MimeType HTML_UTF8 = MimeType.valueOf("text/html;charset=UTF-8");

	private final LiveViewPage page = LiveViewPage.load();

	/**
	 * Creates a new extension.
	 * @param delegate the endpoint
	 * @param showValues when to show values unmasked
	 * @param roles roles allowed to see values when {@code showValues} is
	 * {@link Show#WHEN_AUTHORIZED}
	 */
	public RequestContextsLiveViewWebExtension(RequestContextsEndpoint delegate, Show showValues, Set<String> roles) {
		super(delegate, showValues, roles);
	}

	/**
	 * The live view.
	 * @return the page
	 */
	@ReadOperation(produces = TEXT_HTML)
	public WebEndpointResponse<String> liveView() {
		HttpServletResponse response = currentResponse();
		if (response != null) {
			response.setHeader("Content-Security-Policy", this.page.contentSecurityPolicy());
			response.setHeader("X-Content-Type-Options", "nosniff");
			response.setHeader("Referrer-Policy", "no-referrer");
			// Live data, and the same URL answers JSON: never keep this answer for another request.
			response.setHeader("Cache-Control", "no-store");
			response.addHeader("Vary", "Accept");
		}
		return new WebEndpointResponse<>(this.page.html(), HTML_UTF8);
	}

}
