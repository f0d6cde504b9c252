/**
 * Outbound HTTP: {@code RestClient}, {@code RestTemplate} and {@code WebClient} calls carry the
 * caller's deadline downstream (and its request id, to the hosts declared internal) and are
 * aborted when the caller's context is cancelled, while the caller waits for the response and
 * while it reads the response body.
 *
 * <p>{@code WebClient} gets {@link dev.reqctx.http.ContextPropagatingExchangeFilter}, made from
 * the interceptor's settings, which writes the same headers with the same code; it is
 * non-blocking, so the abort is a cancelled subscription (of the exchange, then of its body)
 * rather than an interrupt, and the failure is an error signal.
 * {@link dev.reqctx.http.ReqctxWebClient} holds the Reactor {@code Context} key the filter reads
 * the caller's context from. The rest of this page is about the blocking clients.
 *
 * <p>{@link dev.reqctx.http.ContextPropagatingInterceptor} does the work that is the same for
 * every client library: fail fast, headers, the live-tree operation, translating the failure of
 * an aborted call into the context's exception. The operation stays open until the body has been
 * read to its end or the response (or its body stream) is closed, whichever comes first; the
 * interceptor hands the caller the response wrapped for that, without buffering the body. How an
 * exchange in flight is aborted depends on the request factory underneath:
 *
 * <table>
 * <caption>Behaviour on cancellation, by request factory</caption>
 * <tr><th>factory</th><th>cancelled while waiting for the response</th><th>cancelled while the
 * body is read (or drained by {@code close()})</th></tr>
 * <tr><td>{@code JdkClientHttpRequestFactory} (Boot's default without another client
 * library)</td><td>The waiting thread is interrupted; Spring cancels the {@code sendAsync}
 * future, the JDK cancels the exchange and closes the HTTP/1.1 connection (an HTTP/2 stream is
 * reset).</td><td>The body stream is closed from the cancelling thread: the JDK cancels the
 * body's subscription and closes the connection, a blocked read returns at once and fails with
 * the context's exception.</td></tr>
 * <tr><td>{@code HttpComponentsClientHttpRequestFactory} (Apache HttpClient 5)</td><td colspan="2">With
 * {@link dev.reqctx.http.ContextCancellingExecHandler} in the client's exec chain (added by the
 * auto-configuration to the client Boot builds), the request is cancelled and its connection
 * shut down at once; the handler stays armed until the body has been read or closed. Without it
 * a blocking read is not interrupted, and the call or the body read ends at the client's own
 * response timeout (per read: a trickle never trips it).</td></tr>
 * <tr><td>{@code SimpleClientHttpRequestFactory} ({@code HttpURLConnection})</td><td>A blocking
 * socket read on a platform thread ignores interrupts: the call ends at the connection's read
 * timeout, then fails with the context's exception. Configure a read timeout. On a virtual
 * thread the interrupt closes the socket.</td><td>Its streams take a lock that a blocked read
 * holds, so they cannot be closed from another thread: the read stops at the next bytes that
 * arrive after the cancel (a trickle or an endless body within one gap between writes), closes
 * the connection and fails with the context's exception. A downstream that sends nothing more
 * holds the read until the read timeout.</td></tr>
 * <tr><td>{@code JettyClientHttpRequestFactory}</td><td>The waiting thread is interrupted and
 * the caller returns at once with the context's exception, but Spring does not abort the Jetty
 * request: it ends at Jetty's own timeout. Not covered by this project's tests.</td><td>The body stream is closed: a blocked read
 * fails at once; Jetty aborts the connection when its next bytes arrive, or at its idle
 * timeout if the downstream sends nothing more.</td></tr>
 * <tr><td>{@code ReactorClientHttpRequestFactory}</td><td>The waiting thread is interrupted;
 * Reactor's {@code block()} disposes the subscription, which cancels the exchange. Not covered
 * by this project's tests.</td><td>The body stream is closed: a blocked read fails at once; the
 * connection is closed when its next bytes arrive or the response is closed, not always when
 * the downstream sends nothing more.</td></tr>
 * </table>
 *
 * <p>On every factory a call with a cancelled context fails before a connection is opened, and
 * the budget header is sent (and the request id, to internal hosts). The factories are told apart by the class of the
 * response the interceptor receives: a response wrapped by an interceptor that runs after this
 * one, or by request buffering, is read without being closed from another thread, so it stops at
 * the next bytes that arrive, like {@code HttpURLConnection}'s.
 *
 * <p>{@code retrieve().body(...)}, {@code toEntity(...)} and {@code RestTemplate} read the body
 * inside the call, so the call fails with the context's exception. {@code exchange(...)},
 * {@code body(InputStream.class)} and the like hand the body out: its {@code read} fails with the
 * context's exception (a {@code RuntimeException}). {@code toBodilessEntity()} closes the
 * response, which drains the body to reuse the connection; the drain is cut short at the
 * deadline, and the status is returned.
 */
package dev.reqctx.http;
