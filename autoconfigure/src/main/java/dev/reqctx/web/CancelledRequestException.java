package dev.reqctx.web;

import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.web.ErrorResponseException;

/**
 * A request that failed because its context was cancelled, as a Spring {@link ErrorResponseException}:
 * {@code 504 Gateway Timeout} for an exceeded deadline, {@code 503 Service Unavailable} for any
 * other cause, with an RFC 9457 body that carries the context id, the request id, the trace id,
 * the cause and the elapsed time.
 *
 * <p>Its title and detail come from the application's {@code MessageSource} when it has them, under
 * {@code problemDetail.title.dev.reqctx.web.CancelledRequestException.<CAUSE>} and
 * {@code problemDetail.dev.reqctx.web.CancelledRequestException.<CAUSE>} (argument {@code {0}} is
 * the cause, {@code {1}} the elapsed milliseconds), as for Spring's own error responses. A
 * {@code ResponseEntityExceptionHandler} of the application renders it like any other
 * {@code ErrorResponseException}.
 */
public class CancelledRequestException extends ErrorResponseException {

	private static final String CODE = "problemDetail." + CancelledRequestException.class.getName();

	private static final String TITLE_CODE = "problemDetail.title." + CancelledRequestException.class.getName();

	private final ContextCancelledException cancellation;

	/**
	 * Creates the error response of a cancellation.
	 * @param cancellation the cancellation
	 * @param requestId the request's id, may be {@code null}
	 * @param traceId the request's trace id, may be {@code null}
	 */
	public CancelledRequestException(ContextCancelledException cancellation, @Nullable String requestId,
			@Nullable String traceId) {
		super(statusFor(cancellation.getCancellationCause()), body(cancellation, requestId, traceId), cancellation,
				CODE + "." + cancellation.getCancellationCause(),
				new Object[] { cancellation.getCancellationCause(), cancellation.getElapsedMillis() });
		this.cancellation = cancellation;
	}

	/**
	 * Returns the status that answers a cancellation with the given cause.
	 * @param cause the cause
	 * @return {@code 504} for {@link CancellationCause#DEADLINE_EXCEEDED}, {@code 503} otherwise
	 */
	public static HttpStatus statusFor(CancellationCause cause) {
		return (cause == CancellationCause.DEADLINE_EXCEEDED) ? HttpStatus.GATEWAY_TIMEOUT
				: HttpStatus.SERVICE_UNAVAILABLE;
	}

	private static ProblemDetail body(ContextCancelledException cancellation, @Nullable String requestId,
			@Nullable String traceId) {
		CancellationCause cause = cancellation.getCancellationCause();
		HttpStatus status = statusFor(cause);
		ProblemDetail body = ProblemDetail.forStatusAndDetail(status, ProblemResponses.detailFor(cause));
		body.setTitle(status.getReasonPhrase());
		body.setProperty("contextId", cancellation.getContextId());
		body.setProperty("requestId", requestId);
		if (traceId != null) {
			body.setProperty("traceId", traceId);
		}
		body.setProperty("cause", cause.name());
		body.setProperty("elapsedMs", cancellation.getElapsedMillis());
		return body;
	}

	/**
	 * Returns the cancellation this response answers.
	 * @return the cancellation
	 */
	public ContextCancelledException getCancellation() {
		return this.cancellation;
	}

	@Override
	public String getTitleMessageCode() {
		return TITLE_CODE + "." + this.cancellation.getCancellationCause();
	}

}
