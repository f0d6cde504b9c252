package dev.reqctx.grpc;

import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import io.grpc.Status;

/**
 * How a context's cancellation reads as a gRPC status, on both sides of a call: the status codes
 * gRPC itself uses for the same events, as the web integration answers {@code 504} and
 * {@code 503}.
 */
final class GrpcStatuses {

	private GrpcStatuses() {
	}

	/**
	 * Returns the status for a cancellation: {@code DEADLINE_EXCEEDED} when the deadline passed,
	 * {@code UNAVAILABLE} at shutdown (the client may retry elsewhere), {@code CANCELLED}
	 * otherwise. The status carries the context's exception as its cause.
	 */
	static Status of(ContextCancelledException cancelled) {
		CancellationCause cause = cancelled.getCancellationCause();
		Status status = switch (cause) {
			case DEADLINE_EXCEEDED -> Status.DEADLINE_EXCEEDED;
			case SHUTDOWN -> Status.UNAVAILABLE;
			default -> Status.CANCELLED;
		};
		return status.withDescription("reqctx context " + cancelled.getContextId() + " " + describe(cause) + " after "
				+ cancelled.getElapsedMillis() + " ms").withCause(cancelled);
	}

	private static String describe(CancellationCause cause) {
		return switch (cause) {
			case DEADLINE_EXCEEDED -> "passed its deadline";
			case CLIENT_GONE -> "lost its client";
			case CANCELLED -> "was cancelled";
			case SHUTDOWN -> "was stopped by the application's shutdown";
			case COMPLETED -> "had completed";
		};
	}

}
