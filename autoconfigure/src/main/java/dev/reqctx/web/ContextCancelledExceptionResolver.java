package dev.reqctx.web;

import java.io.IOException;

import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.Contexts;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.core.Ordered;
import org.springframework.web.servlet.HandlerExceptionResolver;
import org.springframework.web.servlet.ModelAndView;

/**
 * Answers Spring MVC handler failures caused by a cancelled context with an RFC 9457 problem
 * ({@code 504} for an exceeded deadline, {@code 503} otherwise), before generic
 * {@code @ExceptionHandler}s turn them into {@code 500}s.
 *
 * <p>A failure counts as caused by the cancellation when a {@link ContextCancelledException} is
 * in its cause chain, or when the request's context was cancelled (not completed) by the time
 * the handler failed.
 */
public final class ContextCancelledExceptionResolver implements HandlerExceptionResolver, Ordered {

	private final int order;

	/**
	 * Creates a resolver.
	 * @param order its order among the handler exception resolvers
	 */
	public ContextCancelledExceptionResolver(int order) {
		this.order = order;
	}

	@Override
	public ModelAndView resolveException(HttpServletRequest request, HttpServletResponse response, Object handler,
			Exception ex) {
		ContextCancelledException cancelled = ContextCancelledException.findIn(ex);
		RequestContext ctx = RequestContext.current();
		if (cancelled == null) {
			CancellationCause cause = ctx.cause();
			if (cause == null || !cause.isFailure()) {
				return null;
			}
			cancelled = Contexts.cancellationException(ctx, ex);
		}
		if (response.isCommitted()) {
			return null;
		}
		try {
			ProblemResponses.writeCancelled(response, cancelled, ctx.get(StandardKeys.REQUEST_ID),
					ctx.get(StandardKeys.TRACE_ID));
		}
		catch (IOException writeFailure) {
			return null;
		}
		request.setAttribute(RequestContextFilter.CANCELLED_ATTRIBUTE, cancelled);
		return new ModelAndView();
	}

	@Override
	public int getOrder() {
		return this.order;
	}

}
