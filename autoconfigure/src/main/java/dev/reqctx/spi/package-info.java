/**
 * Plumbing for integrations: what code that plugs a client library into reqctx needs, and code
 * that only uses request contexts does not.
 */
package dev.reqctx.spi;
