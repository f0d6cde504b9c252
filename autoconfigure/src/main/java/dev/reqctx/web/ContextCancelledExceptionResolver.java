package dev.reqctx.web;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.RequestContext;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.Contexts;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.BeansException;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationContextAware;
import org.springframework.context.MessageSource;
import org.springframework.core.Ordered;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.server.ServletServerHttpResponse;
import org.springframework.web.ErrorResponseException;
import org.springframework.web.method.ControllerAdviceBean;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.method.annotation.ExceptionHandlerMappingInfo;
import org.springframework.web.method.annotation.ExceptionHandlerMethodResolver;
import org.springframework.web.servlet.HandlerExceptionResolver;
import org.springframework.web.servlet.ModelAndView;
import org.springframework.web.servlet.handler.HandlerExceptionResolverComposite;
import org.springframework.web.servlet.mvc.method.annotation.ExceptionHandlerExceptionResolver;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;

/**
 * Answers Spring MVC handler failures caused by a cancelled context with {@code 504} for an
 * exceeded deadline and {@code 503} otherwise, the way Spring answers its own errors, and before
 * a generic {@code @ExceptionHandler} can turn them into {@code 500}s.
 *
 * <p>A failure counts as caused by the cancellation when a {@link ContextCancelledException} is
 * in its cause chain, or when the request's context was cancelled (not completed) by the time
 * the handler failed. Then, in order:
 * <ol>
 * <li>an {@code @ExceptionHandler} of the application for reqctx's exceptions (a
 * {@code ContextCancelledException} or subclass) handles it;
 * <li>else an {@code @ExceptionHandler} for Spring's {@link ErrorResponseException} (a
 * {@code ResponseEntityExceptionHandler}, Boot's with {@code spring.mvc.problemdetails.enabled})
 * handles it as a {@link CancelledRequestException};
 * <li>else a browser (a client that prefers HTML) gets the application's error page with the
 * status, through the servlet container's {@code sendError} and Boot's error controller;
 * <li>else the client gets an RFC 9457 {@code application/problem+json} body, written by the
 * application's message converters, with its title and detail from the application's
 * messages.
 * </ol>
 * A handler for {@code Exception}, {@code RuntimeException} or any type that is not reqctx's
 * or Spring's error response never sees the cancellation. With {@code problemResponses} off
 * the last step becomes the error page's too: no reqctx body, the status still right.
 */
public final class ContextCancelledExceptionResolver implements HandlerExceptionResolver, Ordered, ApplicationContextAware {

	private final int order;

	private final boolean problemResponses;

	private @Nullable ApplicationContext context;

	private final Map<Class<?>, ExceptionHandlerMethodResolver> methodResolvers = new ConcurrentHashMap<>();

	private volatile @Nullable List<ControllerAdviceBean> advice;

	private volatile @Nullable ExceptionHandlerExceptionResolver exceptionHandlers;

	/**
	 * Creates a resolver that answers with problem bodies.
	 * @param order its order among the handler exception resolvers
	 */
	public ContextCancelledExceptionResolver(int order) {
		this(order, true);
	}

	/**
	 * Creates a resolver.
	 * @param order its order among the handler exception resolvers
	 * @param problemResponses whether clients that do not prefer HTML get an RFC 9457 body, or the
	 * application's error handling renders the status
	 */
	public ContextCancelledExceptionResolver(int order, boolean problemResponses) {
		this.order = order;
		this.problemResponses = problemResponses;
	}

	@Override
	public void setApplicationContext(ApplicationContext context) throws BeansException {
		this.context = context;
	}

	@Override
	public @Nullable ModelAndView resolveException(HttpServletRequest request, HttpServletResponse response,
			@Nullable Object handler, Exception ex) {
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
		request.setAttribute(RequestContextFilter.CANCELLED_ATTRIBUTE, cancelled);
		String requestId = ctx.get(StandardKeys.REQUEST_ID);
		String traceId = ctx.get(StandardKeys.TRACE_ID);
		CancelledRequestException error = new CancelledRequestException(cancelled, requestId, traceId);
		ModelAndView handled = byApplication(request, response, handler, cancelled, error);
		if (handled != null) {
			return handled;
		}
		try {
			if (!this.problemResponses || prefersHtml(request)) {
				response.sendError(error.getStatusCode().value());
			}
			else if (!writeProblem(request, response, error)) {
				ProblemResponses.writeCancelled(response, cancelled, requestId, traceId);
			}
		}
		catch (IOException writeFailure) {
			return null;
		}
		return new ModelAndView();
	}

	/** The application's own handler for reqctx's exceptions, else for Spring's error responses. */
	private @Nullable ModelAndView byApplication(HttpServletRequest request, HttpServletResponse response,
			@Nullable Object handler, ContextCancelledException cancelled, CancelledRequestException error) {
		ExceptionHandlerExceptionResolver handlers = exceptionHandlers();
		if (handlers == null) {
			return null;
		}
		Class<?> handlerType = (handler instanceof HandlerMethod method) ? method.getBeanType() : null;
		if (handledSpecifically(handlerType, cancelled, ContextCancelledException.class)) {
			ModelAndView handled = handlers.resolveException(request, response, handler, cancelled);
			if (handled != null) {
				return handled;
			}
		}
		if (handledSpecifically(handlerType, error, ErrorResponseException.class)) {
			return handlers.resolveException(request, response, handler, error);
		}
		return null;
	}

	/**
	 * Whether the handler Spring would pick for the exception (the controller's own, else the
	 * first applicable advice, as {@code ExceptionHandlerExceptionResolver} picks) is declared for
	 * a type of the given family rather than for something generic.
	 */
	private boolean handledSpecifically(@Nullable Class<?> handlerType, Exception ex, Class<?> family) {
		ExceptionHandlerMappingInfo mapping = null;
		if (handlerType != null) {
			mapping = methodResolver(handlerType).resolveExceptionMapping(ex, MediaType.ALL);
		}
		if (mapping == null) {
			for (ControllerAdviceBean bean : advice()) {
				if (bean.isApplicableToBeanType(handlerType)) {
					mapping = methodResolver(bean.getBeanType()).resolveExceptionMapping(ex, MediaType.ALL);
					if (mapping != null) {
						break;
					}
				}
			}
		}
		if (mapping == null) {
			return false;
		}
		for (Class<? extends Throwable> type : mapping.getExceptionTypes()) {
			if (family.isAssignableFrom(type) && type.isInstance(ex)) {
				return true;
			}
		}
		return false;
	}

	private ExceptionHandlerMethodResolver methodResolver(Class<?> type) {
		return this.methodResolvers.computeIfAbsent(type, ExceptionHandlerMethodResolver::new);
	}

	private List<ControllerAdviceBean> advice() {
		List<ControllerAdviceBean> found = this.advice;
		if (found == null) {
			found = (this.context != null) ? ControllerAdviceBean.findAnnotatedBeans(this.context) : List.of();
			this.advice = found;
		}
		return found;
	}

	/** Writes the problem with the application's converters (its JSON settings apply). */
	private boolean writeProblem(HttpServletRequest request, HttpServletResponse response,
			CancelledRequestException error) throws IOException {
		RequestMappingHandlerAdapter adapter = bean(RequestMappingHandlerAdapter.class);
		if (adapter == null) {
			return false;
		}
		MessageSource messages = this.context;
		Locale locale = request.getLocale();
		ProblemDetail body = (messages != null) ? error.updateAndGetBody(messages, locale) : error.getBody();
		if (body.getInstance() == null) {
			body.setInstance(java.net.URI.create(request.getRequestURI()));
		}
		for (HttpMessageConverter<?> converter : adapter.getMessageConverters()) {
			if (converter.canWrite(ProblemDetail.class, MediaType.APPLICATION_PROBLEM_JSON)) {
				response.resetBuffer();
				response.setStatus(error.getStatusCode().value());
				@SuppressWarnings("unchecked")
				HttpMessageConverter<ProblemDetail> writer = (HttpMessageConverter<ProblemDetail>) converter;
				ServletServerHttpResponse output = new ServletServerHttpResponse(response);
				writer.write(body, MediaType.APPLICATION_PROBLEM_JSON, output);
				output.flush();
				return true;
			}
		}
		return false;
	}

	/**
	 * Spring MVC's resolver of {@code @ExceptionHandler} methods. It is not a bean of its own:
	 * it sits in the {@code handlerExceptionResolver} composite that MVC's configuration creates.
	 */
	private @Nullable ExceptionHandlerExceptionResolver exceptionHandlers() {
		ExceptionHandlerExceptionResolver found = this.exceptionHandlers;
		if (found == null && this.context != null) {
			for (HandlerExceptionResolverComposite composite : this.context
				.getBeansOfType(HandlerExceptionResolverComposite.class)
				.values()) {
				for (HandlerExceptionResolver resolver : composite.getExceptionResolvers()) {
					if (resolver instanceof ExceptionHandlerExceptionResolver handlers) {
						found = handlers;
					}
				}
			}
			this.exceptionHandlers = found;
		}
		return found;
	}

	private <T> @Nullable T bean(Class<T> type) {
		return (this.context != null) ? this.context.getBeanProvider(type).getIfUnique() : null;
	}

	/**
	 * Whether the client asks for HTML more than for JSON, as a browser does
	 * ({@code text/html,...,*}{@code /*;q=0.8}); a client that sends no preference gets JSON.
	 */
	static boolean prefersHtml(HttpServletRequest request) {
		String accept = request.getHeader("Accept");
		if (accept == null || accept.isBlank()) {
			return false;
		}
		double html = 0;
		double json = 0;
		try {
			for (MediaType type : MediaType.parseMediaTypes(accept)) {
				double quality = type.getQualityValue();
				if (type.isCompatibleWith(MediaType.TEXT_HTML) && !type.isWildcardType()
						|| type.isCompatibleWith(MediaType.APPLICATION_XHTML_XML) && !type.isWildcardType()) {
					html = Math.max(html, quality);
				}
				else if (type.isCompatibleWith(MediaType.APPLICATION_JSON)
						|| type.isCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)) {
					json = Math.max(json, quality);
				}
			}
		}
		catch (RuntimeException malformed) {
			return false;
		}
		return html > json;
	}

	@Override
	public int getOrder() {
		return this.order;
	}

}
