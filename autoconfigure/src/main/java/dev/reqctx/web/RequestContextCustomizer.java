package dev.reqctx.web;

import dev.reqctx.CancellableContext;
import dev.reqctx.RequestContext;
import jakarta.servlet.http.HttpServletRequest;

/**
 * A hook into the creation of each request's context by the {@link RequestContextFilter}: adds
 * values before the context exists, and acts on the context once it does. This is how optional
 * integrations (tracing) take part without the web package depending on them.
 *
 * <p>Both methods run on the request thread, inside whatever filters run before the
 * {@code RequestContextFilter} (for example with the server observation's span current). They
 * run for every request, so they must be quick, and they must not throw.
 */
public interface RequestContextCustomizer {

	/**
	 * Adds values to what becomes the request's context.
	 * @param base the values gathered so far (request id, propagated headers)
	 * @param request the request
	 * @return {@code base}, or a context derived from it with {@link RequestContext#withValue}
	 */
	default RequestContext customize(RequestContext base, HttpServletRequest request) {
		return base;
	}

	/**
	 * Called once the request's context exists and is registered, before the handler runs.
	 * @param context the request's context
	 * @param request the request
	 */
	default void started(CancellableContext context, HttpServletRequest request) {
	}

}
