/**
 * gRPC integration: a client interceptor that bounds every outbound call by the caller's
 * context (its deadline becomes the call's, its cancel resets the stream) and a server
 * interceptor that gives every inbound call a context of its own, from the client's deadline,
 * cancelled when the client goes away. Built on {@code grpc-api} only, for any transport.
 */
package dev.reqctx.grpc;
