package dev.reqctx.http;

import java.io.IOException;

import dev.reqctx.Registration;
import dev.reqctx.RequestContext;
import org.apache.hc.client5.http.classic.ExecChain;
import org.apache.hc.client5.http.classic.ExecChainHandler;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.core5.concurrent.Cancellable;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpException;

/**
 * An Apache HttpClient 5 (classic) exec-chain handler that aborts the exchange, closing its
 * socket, the moment the caller's {@link RequestContext} is cancelled.
 *
 * <p>The classic client reads from a blocking socket that ignores thread interrupts, so it has
 * to be stopped from inside: this handler cancels the request (as
 * {@code HttpUriRequestBase.cancel()} does), which abandons a pending connection lease or shuts
 * the connection down at once, so the waiting thread fails with an I/O error that
 * {@link ContextPropagatingInterceptor} turns into the context's exception. The abort stays
 * armed while the caller reads the response body, until the body has been read to its end or
 * closed: the connection is held that long, and a body that trickles or never ends would
 * otherwise hold the caller too.
 *
 * <p>The auto-configuration adds it to the client that Spring Boot builds. For a client built by
 * hand:
 *
 * <pre>
 * CloseableHttpClient httpClient = ContextCancellingExecHandler.register(HttpClients.custom()).build();
 * RestClient client = RestClient.builder()
 *         .requestFactory(new HttpComponentsClientHttpRequestFactory(httpClient))
 *         .requestInterceptor(ReqctxHttp.interceptor())
 *         .build();
 * </pre>
 */
public final class ContextCancellingExecHandler implements ExecChainHandler {

	/** The name this handler is registered under in the exec chain. */
	public static final String NAME = "reqctx";

	private static final ContextCancellingExecHandler INSTANCE = new ContextCancellingExecHandler();

	private ContextCancellingExecHandler() {
	}

	/**
	 * Returns the handler; it holds no state.
	 * @return the handler
	 */
	public static ContextCancellingExecHandler get() {
		return INSTANCE;
	}

	/**
	 * Adds the handler first in the given builder's exec chain, so that it also covers
	 * retries, redirects and the wait for a pooled connection.
	 * @param builder the builder
	 * @return the builder
	 */
	public static HttpClientBuilder register(HttpClientBuilder builder) {
		return builder.addExecInterceptorFirst(NAME, INSTANCE);
	}

	@Override
	public ClassicHttpResponse execute(ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain)
			throws IOException, HttpException {
		RequestContext context = RequestContext.current();
		if (!context.isCancellable()) {
			return chain.proceed(request, scope);
		}
		// Runs at once if the context is already cancelled, so the client fails before it
		// leases a connection.
		Registration registration = context.onCancel(() -> abort(scope));
		ClassicHttpResponse response;
		try {
			response = chain.proceed(request, scope);
		}
		catch (Throwable ex) {
			registration.remove();
			throw ex;
		}
		// The connection is held until the body is read or closed, and a blocked body read
		// ignores interrupts as the wait for the response does: keep the abort until then.
		HttpEntity entity = response.getEntity();
		if (entity != null && entity.isStreaming()) {
			response.setEntity(new ContextBoundEntity(entity, registration));
		}
		else {
			registration.remove();
		}
		return response;
	}

	private static void abort(ExecChain.Scope scope) {
		if (scope.originalRequest instanceof Cancellable cancellable) {
			// The request forwards to whatever it currently waits on (lease or connection) and
			// stays cancelled, so a retry or redirect cannot start a new exchange.
			cancellable.cancel();
		}
		else {
			scope.execRuntime.discardEndpoint();
		}
	}

}
