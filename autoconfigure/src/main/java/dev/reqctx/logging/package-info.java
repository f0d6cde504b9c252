/**
 * Logging integration: the request id and trace id (and, if asked for, the deadline) in the
 * SLF4J MDC while a context runs on a thread.
 */
package dev.reqctx.logging;
