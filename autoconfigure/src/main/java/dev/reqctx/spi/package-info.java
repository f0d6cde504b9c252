/**
 * The service-provider interface of reqctx: what integrations (the servlet filter, the JDBC
 * wrappers, the HTTP interceptor, the executor wrappers) use to connect a framework to the core.
 * Applications do not need it; their API is {@link dev.reqctx}.
 */
package dev.reqctx.spi;

