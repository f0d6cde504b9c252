package dev.reqctx.actuate;

import java.util.Set;

import dev.reqctx.actuate.RequestContextsEndpoint.CancellationDescriptor;
import dev.reqctx.actuate.RequestContextsEndpoint.ContextDescriptor;
import dev.reqctx.actuate.RequestContextsEndpoint.RecordedCancellationDescriptor;
import dev.reqctx.actuate.RequestContextsEndpoint.RequestContextsDescriptor;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.Show;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.annotation.EndpointWebExtension;
import org.springframework.util.ClassUtils;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * {@link EndpointWebExtension @EndpointWebExtension} for the {@link RequestContextsEndpoint}:
 * shows values according to the caller's roles, and answers {@code 404} for unknown ids.
 */
@EndpointWebExtension(endpoint = RequestContextsEndpoint.class)
public class RequestContextsEndpointWebExtension {

	private static final boolean SERVLET_PRESENT = ClassUtils.isPresent(
			"org.springframework.web.context.request.ServletRequestAttributes",
			RequestContextsEndpointWebExtension.class.getClassLoader());

	private final RequestContextsEndpoint delegate;

	private final Show showValues;

	private final Set<String> roles;

	/**
	 * Creates a new extension.
	 * @param delegate the endpoint
	 * @param showValues when to show values unmasked
	 * @param roles roles allowed to see values when {@code showValues} is
	 * {@link Show#WHEN_AUTHORIZED}
	 */
	public RequestContextsEndpointWebExtension(RequestContextsEndpoint delegate, Show showValues, Set<String> roles) {
		this.delegate = delegate;
		this.showValues = showValues;
		this.roles = roles;
	}

	/**
	 * Lists the requests in flight, closest to their deadline first.
	 * @param securityContext the caller
	 * @param limit the most requests to list
	 * @return the list
	 */
	@ReadOperation
	public RequestContextsDescriptor requestContexts(SecurityContext securityContext, @Nullable Integer limit) {
		if (limit != null && limit < 0) {
			limit = 0;
		}
		return this.delegate.list(limit, this.showValues.isShown(securityContext, this.roles));
	}

	/**
	 * Shows one context.
	 * @param securityContext the caller
	 * @param id the context id or request id
	 * @param stack how to show the stack ({@code ?stack=full} or {@code folded}), the configured
	 * mode if {@code null}
	 * @return the context, or {@code 404}
	 */
	@ReadOperation
	public WebEndpointResponse<OperationResponseBody> requestContext(SecurityContext securityContext,
			@Selector String id, @Nullable StackMode stack) {
		ContextDescriptor descriptor = this.delegate.one(id, this.showValues.isShown(securityContext, this.roles),
				stack);
		if (descriptor != null) {
			return new WebEndpointResponse<>(descriptor);
		}
		// No longer in flight: how its cancel spread, if it was cancelled recently.
		RecordedCancellationDescriptor recorded = this.delegate.recorded(id);
		return (recorded != null) ? new WebEndpointResponse<>(recorded)
				: new WebEndpointResponse<>(WebEndpointResponse.STATUS_NOT_FOUND);
	}

	/**
	 * Cancels a context, recording who asked and from where.
	 * @param id the context id or request id
	 * @return the outcome, or {@code 404}
	 */
	@WriteOperation
	public WebEndpointResponse<CancellationDescriptor> cancel(@Selector String id) {
		// The caller comes from the servlet request: a SecurityContext parameter would make Boot
		// expect a JSON body on this POST.
		HttpServletRequest request = currentRequest();
		CancellationDescriptor descriptor = this.delegate.cancel(id,
				(request != null) ? request.getUserPrincipal() : null,
				(request != null) ? request.getRemoteAddr() : null);
		return (descriptor != null) ? new WebEndpointResponse<>(descriptor)
				: new WebEndpointResponse<>(WebEndpointResponse.STATUS_NOT_FOUND);
	}

	/** The servlet request the endpoint is serving, when there is one. */
	private static @Nullable HttpServletRequest currentRequest() {
		if (!SERVLET_PRESENT) {
			return null;
		}
		return (RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes)
				? attributes.getRequest() : null;
	}

	/** The servlet response the endpoint is writing, when there is one. */
	static @Nullable HttpServletResponse currentResponse() {
		if (!SERVLET_PRESENT) {
			return null;
		}
		return (RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes)
				? attributes.getResponse() : null;
	}

}
