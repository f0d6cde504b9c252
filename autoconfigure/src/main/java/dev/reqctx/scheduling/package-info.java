/**
 * Scheduled jobs: each run of a {@code @Scheduled} method is a root of the live tree (kind
 * {@code JOB}, named {@code SimpleClassName.method}) with a deadline of its own, so its SQL and
 * outbound HTTP are bounded by it, an operator can cancel it, and an overrun is cancelled at the
 * deadline instead of running into the next one.
 */
package dev.reqctx.scheduling;
