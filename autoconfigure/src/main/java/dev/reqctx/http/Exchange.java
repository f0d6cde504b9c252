package dev.reqctx.http;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Set;
import java.util.function.Consumer;

import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.RequestContext;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.InterruptGuard;
import dev.reqctx.spi.Operation;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.client.ClientHttpResponse;
import org.springframework.util.StreamUtils;

/**
 * One outbound exchange, from the call until its response body is read or closed: the cancel
 * action of the exchange's {@code "http"} operation and, once the status and headers arrived,
 * the response the caller reads.
 *
 * <p>While the request factory executes the call, a cancel interrupts the waiting thread. That
 * is how the clients that Spring wraps are told to give up through public API only: Spring's
 * {@code JdkClientHttpRequest} waits on the {@code HttpClient.sendAsync} future and cancels it
 * when interrupted, which (JDK 16+) aborts the exchange and closes an HTTP/1.1 connection;
 * Reactor Netty's {@code block()} disposes the exchange; a pooled connection lease is abandoned.
 * Blocking socket reads on platform threads ignore interrupts, so the Apache client is aborted by
 * {@link ContextCancellingExecHandler} instead and the interrupt is harmless there. The interrupt
 * never outlives the call: it is cleared before the caller sees the response or the failure.
 *
 * <p>Once the caller has the response, the operation stays open, and cancellable, until the body
 * reaches its end or the response (or its body) is closed. A cancel then aborts the body without
 * interrupting anyone, since the caller may be doing anything by now; how depends on the request
 * factory ({@link BodyAbort}): the JDK client's body stream is closed, which closes the
 * connection and wakes a blocked read; the Apache client's connection is shut down by its exec
 * handler. Either way every later read fails with the context's exception, so a client whose
 * socket cannot be closed from outside ({@code HttpURLConnection}) still stops at the next bytes
 * that arrive. Nothing is buffered: the body flows through as the caller reads it. Per call this
 * costs one small object, the body stream, and two volatile reads per read.
 */
final class Exchange extends InterruptGuard implements Consumer<CancellationCause>, ClientHttpResponse {

	/** The call is executing; a cancel interrupts the waiting thread (see {@link InterruptGuard}). */
	private static final int CALLING = 0;

	/** The caller has the response and may be reading its body; a cancel aborts the body. */
	private static final int READING = 1;

	/** The context was cancelled before the body ended: reads fail with its exception. */
	private static final int CANCELLED = 2;

	/** The exchange is over (failed, body read to its end, or closed); a cancel does nothing. */
	private static final int DONE = 3;

	/**
	 * How a cancel stops a body that is being read, for each of Spring's response adapters (by
	 * class name: they are package-private). A response of any other class, such as one wrapped
	 * by an interceptor that runs after this one, gets {@link BodyAbort#NEXT_READ}.
	 */
	private static final ClassValue<BodyAbort> BODY_ABORTS = new ClassValue<>() {

		@Override
		protected BodyAbort computeValue(Class<?> type) {
			return switch (type.getName()) {
				case "org.springframework.http.client.JdkClientHttpResponse",
						"org.springframework.http.client.ReactorClientHttpResponse",
						"org.springframework.http.client.JettyClientHttpResponse" -> BodyAbort.CLOSE;
				case "org.springframework.http.client.HttpComponentsClientHttpResponse" -> BodyAbort.CLIENT;
				case "org.springframework.http.client.SimpleClientHttpResponse" -> BodyAbort.NEXT_READ_AND_DRAIN;
				default -> BodyAbort.NEXT_READ;
			};
		}

	};

	private static final VarHandle STATE;

	static {
		try {
			STATE = MethodHandles.lookup().findVarHandle(Exchange.class, "state", int.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private final RequestContext context;

	private final ContextPropagatingInterceptor interceptor;

	private volatile int state;

	// Written by the caller before it publishes READING, so the cancelling thread sees them.

	private Operation operation;

	private ClientHttpResponse response;

	private BodyAbort bodyAbort;

	/** The response's own body stream, once the caller asked for it. */
	private volatile InputStream body;

	// Caller side only.

	private Body guardedBody;

	private boolean ended;

	Exchange(RequestContext context, ContextPropagatingInterceptor interceptor) {
		this.context = context;
		this.interceptor = interceptor;
	}

	/** Runs on the cancelling thread, at most once (the operation guarantees it). */
	@Override
	public void accept(CancellationCause cause) {
		// The caller publishes the state that follows the call before it ends the call, so a
		// cancel that finds the call ended finds that state.
		if (!interruptCall() && STATE.compareAndSet(this, READING, CANCELLED)) {
			abortBody();
		}
	}

	/** Closes the body stream if that is safe here; the caller's next read fails either way. */
	private void abortBody() {
		InputStream in = this.body;
		if (in != null && this.bodyAbort == BodyAbort.CLOSE) {
			closeQuietly(in);
		}
	}

	/**
	 * Ends the exchange after the call failed, on the calling thread: no cancel action runs any
	 * more, and an interrupt this exchange sent is cleared.
	 */
	void finish() {
		this.state = DONE;
		endCall();
	}

	/**
	 * Hands the exchange over to the caller's reading of the response, on the calling thread:
	 * the operation stays open until the body ends or the response is closed. A cancel that came
	 * during the call leaves the exchange {@link #CANCELLED}; the interrupt it sent is cleared.
	 * @param response the response the request factory returned
	 * @param operation the exchange's operation
	 * @return the response to give the caller
	 */
	ClientHttpResponse respond(ClientHttpResponse response, Operation operation) {
		this.response = response;
		this.operation = operation;
		this.bodyAbort = BODY_ABORTS.get(response.getClass());
		this.state = READING;
		if (endCall()) {
			// The cancel action has run and never runs again: nothing races with this write.
			this.state = CANCELLED;
		}
		return this;
	}

	@Override
	public HttpStatusCode getStatusCode() throws IOException {
		return response().getStatusCode();
	}

	@Override
	public String getStatusText() throws IOException {
		return response().getStatusText();
	}

	@Override
	public HttpHeaders getHeaders() {
		return response().getHeaders();
	}

	@Override
	public InputStream getBody() throws IOException {
		Body guarded = this.guardedBody;
		if (guarded == null) {
			guarded = new Body(openBody());
			this.guardedBody = guarded;
		}
		return guarded;
	}

	private InputStream openBody() throws IOException {
		InputStream in;
		try {
			in = response().getBody();
		}
		catch (IOException | RuntimeException ex) {
			throw failed(ex);
		}
		this.body = in;
		// A cancel that came before the stream was published could not close it.
		if (this.state == CANCELLED && this.bodyAbort == BodyAbort.CLOSE) {
			closeQuietly(in);
		}
		return in;
	}

	/**
	 * Closes the response. Spring's adapters (all but Jetty's) read what is left of the body to
	 * the end first, to reuse the connection: the exchange stays cancellable while they do, so an
	 * endless body cannot hold the caller past its deadline. Once cancelled, the body is closed
	 * first instead, so that nothing drains.
	 */
	@Override
	public void close() {
		try {
			if (this.bodyAbort == BodyAbort.NEXT_READ_AND_DRAIN && this.state == READING) {
				// Its own drain would bypass the checks between reads.
				drainQuietly();
			}
			InputStream in = this.body;
			if (in == null) {
				// Published before the drain starts, so that a cancel can close it.
				in = openBodyQuietly();
			}
			if (this.state == CANCELLED) {
				closeQuietly(in);
			}
			response().close();
		}
		catch (RuntimeException ex) {
			// Reactor's adapter lets a stream closed under it fail with IllegalStateException.
			if (this.state != CANCELLED) {
				throw ex;
			}
		}
		finally {
			end();
		}
	}

	private InputStream openBodyQuietly() {
		try {
			return openBody();
		}
		catch (IOException | RuntimeException ex) {
			return null;
		}
	}

	private void drainQuietly() {
		try {
			StreamUtils.drain(getBody());
		}
		catch (IOException | RuntimeException ex) {
			// cancelled or failed: the response's own close copes with what is left
		}
	}

	/**
	 * Ends the exchange on the caller's side, after the body reached its end or was closed: the
	 * operation leaves the live tree and a cancel does nothing from now on. A cancel that came
	 * first stopped the exchange, and is reported.
	 */
	private void end() {
		int previous = (int) STATE.compareAndExchange(this, READING, DONE);
		if (!this.ended) {
			this.ended = true;
			this.operation.remove();
			if (previous == CANCELLED) {
				this.interceptor.cancelledBy(this.context, this.operation, null);
			}
		}
	}

	/**
	 * Returns what a read that failed, or found the exchange cancelled, throws: the context's
	 * exception if the context is cancelled (also when a deadline passed that the timer has not
	 * reported yet, or when the Apache exec handler closed the socket before this exchange's own
	 * cancel action ran), else the failure itself. Ends the exchange.
	 * @param failure what the read threw, or {@code null} if it found the exchange cancelled
	 */
	private RuntimeException failed(Exception failure) throws IOException {
		if (!this.ended) {
			// As on the call's failure path: Apache's exec handler can fail the read before this
			// exchange's own cancel action runs; removing the operation first would lose the cancel.
			ContextPropagatingInterceptor.awaitCancelAction(this.context, this.operation);
		}
		STATE.compareAndSet(this, READING, DONE);
		ContextCancelledException cancelled;
		if (!this.ended) {
			this.ended = true;
			this.operation.remove();
			// The same translation, and the same meters, as a call that fails before its response.
			cancelled = this.interceptor.cancelledBy(this.context, this.operation, failure);
		}
		else {
			cancelled = Contexts.cancellationException(this.context, failure);
		}
		if (cancelled != null) {
			// Drop the connection now rather than when the caller gets round to closing.
			closeQuietly(this.body);
			return cancelled;
		}
		if (failure == null) {
			// Only a cancel action makes the exchange CANCELLED, and only a cancelled context fires it.
			return new IllegalStateException("Exchange cancelled without a cancelled context");
		}
		if (failure instanceof IOException io) {
			throw io;
		}
		return (RuntimeException) failure;
	}

	private ClientHttpResponse response() {
		return this.response;
	}

	private static void closeQuietly(InputStream in) {
		if (in != null) {
			try {
				in.close();
			}
			catch (IOException | RuntimeException ex) {
				// it is being aborted: the reader reports the cancellation
			}
		}
	}

	/**
	 * The body as the caller reads it: the response's own stream, which ends the exchange at
	 * its end or when closed, and fails with the context's exception once the exchange was
	 * cancelled.
	 */
	private final class Body extends InputStream {

		private final InputStream in;

		Body(InputStream in) {
			this.in = in;
		}

		@Override
		public int read() throws IOException {
			if (Exchange.this.state == CANCELLED) {
				throw failed(null);
			}
			int b;
			try {
				b = this.in.read();
			}
			catch (IOException | RuntimeException ex) {
				throw failed(ex);
			}
			return afterRead(b);
		}

		@Override
		public int read(byte[] bytes, int off, int len) throws IOException {
			if (Exchange.this.state == CANCELLED) {
				throw failed(null);
			}
			int n;
			try {
				n = this.in.read(bytes, off, len);
			}
			catch (IOException | RuntimeException ex) {
				throw failed(ex);
			}
			return afterRead(n);
		}

		private int afterRead(int result) throws IOException {
			if (result < 0) {
				if (STATE.compareAndSet(Exchange.this, READING, DONE) || Exchange.this.state == DONE) {
					end();
					return result;
				}
				// Cancelled: Reactor's adapter reports a stream closed under a blocked read as
				// ended, though the body was cut short.
				throw failed(null);
			}
			if (Exchange.this.state == CANCELLED) {
				// A client whose socket cannot be closed from outside stops here.
				throw failed(null);
			}
			return result;
		}

		@Override
		public long skip(long n) throws IOException {
			if (Exchange.this.state == CANCELLED) {
				throw failed(null);
			}
			try {
				return this.in.skip(n);
			}
			catch (IOException | RuntimeException ex) {
				throw failed(ex);
			}
		}

		@Override
		public int available() throws IOException {
			try {
				return this.in.available();
			}
			catch (IOException | RuntimeException ex) {
				throw failed(ex);
			}
		}

		/**
		 * Closes the response's body stream as Spring's own would be (no draining unless the
		 * client does so itself), then ends the exchange; it stays cancellable until then.
		 */
		@Override
		public void close() throws IOException {
			try {
				this.in.close();
			}
			finally {
				end();
			}
		}

	}

	/** How a cancel stops a body that is being read. */
	private enum BodyAbort {

		/**
		 * Close the body stream from the cancelling thread: that close does not drain, does not
		 * wait for a lock a blocked read holds, and wakes that read. The JDK's
		 * {@code BodyHandlers.ofInputStream()} stream cancels its subscription, which closes an
		 * HTTP/1.1 connection, and hands the reader an end-of-stream marker. Spring's Reactor
		 * and Jetty adapters cancel their subscription or fail the pending content; those
		 * clients drop the connection when its next bytes arrive, not at once.
		 */
		CLOSE,

		/**
		 * Leave it to the client: closing an Apache body from here would consume the rest of it
		 * on the cancelling thread, so {@link ContextCancellingExecHandler} shuts the connection
		 * down instead.
		 */
		CLIENT,

		/**
		 * The stream cannot be closed from another thread ({@code HttpURLConnection}'s lock
		 * against a blocked read): the reader stops at the next bytes that arrive, or at the read
		 * timeout, and the response's draining close runs through the same checks.
		 */
		NEXT_READ_AND_DRAIN,

		/** An unknown response: the reader stops at the next bytes that arrive. */
		NEXT_READ

	}

}
