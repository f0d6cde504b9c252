/**
 * Outbound HTTP: {@code RestClient} and {@code RestTemplate} calls carry the caller's deadline
 * and request id downstream and are aborted when the caller's context is cancelled.
 *
 * <p>{@link dev.reqctx.http.ContextPropagatingInterceptor} does the work that is the same for
 * every client library: fail fast, headers, the live-tree operation, translating the failure of
 * an aborted call into the context's exception. How an exchange in flight is aborted depends on
 * the request factory underneath:
 *
 * <table>
 * <caption>Behaviour on cancellation, by request factory</caption>
 * <tr><th>factory</th><th>what happens when the context is cancelled mid-call</th></tr>
 * <tr><td>{@code JdkClientHttpRequestFactory} (Boot's default without another client
 * library)</td><td>The waiting thread is interrupted; Spring cancels the {@code sendAsync}
 * future, the JDK cancels the exchange and closes the HTTP/1.1 connection (an HTTP/2 stream is
 * reset). Measured on JDK 17: the caller returns and the server sees the connection closed within
 * a few milliseconds.</td></tr>
 * <tr><td>{@code HttpComponentsClientHttpRequestFactory} (Apache HttpClient 5)</td><td>With
 * {@link dev.reqctx.http.ContextCancellingExecHandler} in the client's exec chain (added by the
 * auto-configuration to the client Boot builds), the request is cancelled and its connection
 * shut down at once. Without it the blocking read is not interrupted, and the call ends at the
 * client's own response timeout.</td></tr>
 * <tr><td>{@code ReactorClientHttpRequestFactory}</td><td>The waiting thread is interrupted;
 * Reactor's {@code block()} disposes the subscription, which cancels the exchange. Not covered
 * by this project's tests.</td></tr>
 * <tr><td>{@code JettyClientHttpRequestFactory}</td><td>The waiting thread is interrupted and
 * the caller returns at once with the context's exception, but Spring does not abort the Jetty
 * request: it ends at Jetty's own timeout. Not covered by this project's tests.</td></tr>
 * <tr><td>{@code SimpleClientHttpRequestFactory} ({@code HttpURLConnection})</td><td>A blocking
 * socket read on a platform thread ignores interrupts: the call ends at the connection's read
 * timeout, then fails with the context's exception. Configure a read timeout. On a virtual thread
 * the interrupt closes the socket.</td></tr>
 * </table>
 *
 * <p>On every factory a call with a cancelled context fails before a connection is opened, and
 * the budget and request id headers are sent. The operation covers the exchange until the
 * response status and headers arrive; reading the body afterwards is bounded by the client's
 * read timeout only.
 */
package dev.reqctx.http;
