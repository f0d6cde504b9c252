/**
 * Units of work that a framework starts: each run of a {@code @Scheduled} method (kind
 * {@code JOB}) and each message a listener method takes (kind {@code MESSAGE}) is a root of the
 * live tree, named {@code SimpleClassName.method}, with a deadline of its own, so its SQL and
 * outbound HTTP are bounded by it, an operator can cancel it, and an overrun is cancelled at the
 * deadline instead of running on.
 */
package dev.reqctx.work;
