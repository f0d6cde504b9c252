package dev.reqctx.actuate;

import org.jspecify.annotations.Nullable;

/**
 * One cancel an operator asked for through the {@code requestcontexts} endpoint, for the audit
 * trail: who, from where, what they named, and what it hit.
 *
 * @param target the id the operator named (a context id or a request id)
 * @param contextId the id of the context it resolved to, {@code null} if none was in flight
 * @param request the request's method and path, {@code null} if not a request or not found
 * @param requestId the request id of the context, may be {@code null}
 * @param cancelled whether this call cancelled it ({@code false} if it was already cancelled
 * or not found)
 * @param principal the caller's name, {@code null} when anonymous
 * @param remoteAddress the caller's address, {@code null} when unknown (JMX)
 */
public record OperatorCancel(String target, @Nullable String contextId, @Nullable String request,
		@Nullable String requestId, boolean cancelled, @Nullable String principal, @Nullable String remoteAddress) {

	/**
	 * Returns whether the target was in flight.
	 * @return {@code true} if it resolved to a context
	 */
	public boolean found() {
		return this.contextId != null;
	}

}
