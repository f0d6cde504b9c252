/**
 * Logging integration: the request id, trace id and deadline in the SLF4J MDC while a context
 * runs on a thread.
 */
package dev.reqctx.logging;
