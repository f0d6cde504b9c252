/**
 * Micrometer Tracing integration: each request's context records the trace id of its span, and
 * the span records the request's budget and why it was cancelled.
 */
package dev.reqctx.tracing;
