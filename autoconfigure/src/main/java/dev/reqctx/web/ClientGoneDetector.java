package dev.reqctx.web;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.io.UncheckedIOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.spi.Contexts;
import jakarta.servlet.http.HttpServletRequest;

/**
 * Cancels a request's context with {@link CancellationCause#CLIENT_GONE} when its client closes
 * the connection while a blocking handler still runs, as Go's {@code net/http} does for a
 * handler's context. Tomcat itself only notices when the handler next writes, which may be never
 * (a handler waiting on the database writes nothing until the wait ends).
 *
 * <p>How it watches, on one daemon thread per application and never on a request thread:
 * <ul>
 * <li>The filter records each request in its context ({@link #started}: one field write). The
 * deadline timer's thread, which looks through the live requests every 100 ms anyway, wakes this
 * thread when one of them is older than the interval ({@link Contexts#watchAge}); this thread then
 * starts watching those, and looks again every interval while it watches any. A request that
 * finishes sooner is never touched, so fast requests cost the write and nothing else, and while
 * all requests are short this thread never wakes up.</li>
 * <li>HTTP/1.1 (NIO connector): once the request's body has been read to its end (a request
 * without one has), its socket is registered for reading with the thread's own selector, next to
 * Tomcat's. Nothing is ever read from it: when it becomes readable the thread asks how many bytes
 * are waiting. None means end of stream (or a reset): the client is gone. Some means the client
 * sent more (a pipelined request): those bytes are Tomcat's, they are left where they are, and the
 * socket is no longer watched, since its end of stream would only show behind them.</li>
 * <li>HTTP/2: Tomcat reads the connection itself and marks a stream the client reset (or whose
 * connection closed); the thread checks the mark every interval.</li>
 * </ul>
 * The bound from the client going to the cancel is the interval plus up to one look of the timer
 * (100 ms) for a request that just started, and the time to wake the thread for one already
 * watched.
 */
public final class ClientGoneDetector implements RequestContextCustomizer, AutoCloseable {

	/** How often live requests are looked at, unless told otherwise. */
	public static final Duration DEFAULT_INTERVAL = Duration.ofMillis(50);

	private static final Logger LOGGER = System.getLogger(ClientGoneDetector.class.getName());

	/** Marks a request that will never be watched (not Tomcat's NIO or HTTP/2). */
	private static final Object UNWATCHABLE = new Object();

	private final ContextRuntime runtime;

	private final long intervalNanos;

	private final TomcatConnections connections;

	private final Selector selector;

	private final Thread thread;

	private volatile boolean running = true;

	/** Set while the thread watches nothing and waits for the timer to report an old request. */
	private volatile boolean sleeping;

	/**
	 * The deadline timer's report of requests older than the interval. Before it, this thread woke
	 * every interval while anything was in flight: 20 wake-ups a second under load, measured at
	 * 0.15-0.21 us of CPU per request on one busy core, for requests that were all fast.
	 */
	private final AutoCloseable ageWatch;

	/** Owned by the detector's thread. */
	private final Map<CancellableContext, Object> watched = new IdentityHashMap<>();

	/**
	 * Creates a detector and starts its thread.
	 * @param runtime the application whose requests to watch
	 * @param interval how often to look at the live requests; also the age from which a request
	 * is watched
	 * @throws UncheckedIOException if no selector can be opened
	 */
	public ClientGoneDetector(ContextRuntime runtime, Duration interval) {
		this.runtime = Objects.requireNonNull(runtime, "runtime must not be null");
		if (interval == null || interval.isNegative() || interval.isZero()) {
			throw new IllegalArgumentException("interval must be positive, was " + interval);
		}
		this.intervalNanos = interval.toNanos();
		this.connections = new TomcatConnections();
		if (this.connections.problem() != null) {
			LOGGER.log(Level.WARNING, "Not detecting clients that go away (reqctx.web.detect-client-gone): "
					+ this.connections.problem() + "; set reqctx.web.detect-client-gone=false to silence this");
		}
		try {
			this.selector = Selector.open();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot open a selector to watch client connections", ex);
		}
		this.thread = new Thread(this::run, "reqctx-client-gone");
		this.thread.setDaemon(true);
		this.thread.start();
		this.ageWatch = Contexts.watchAge(runtime, interval, this::wake);
	}

	/**
	 * Whether this Tomcat lets connections be watched.
	 * @return {@code false} if its internals are not where this detector expects them
	 */
	public boolean isSupported() {
		return this.connections.problem() == null;
	}

	@Override
	public void started(CancellableContext context, HttpServletRequest request) {
		Contexts.transport(context, request);
	}

	/** On the timer's thread: a request is older than the interval. */
	private void wake() {
		if (this.sleeping) {
			this.sleeping = false;
			// Also ends the next select at once if the thread is not in one yet.
			this.selector.wakeup();
		}
	}

	/** Stops the thread and forgets every watched connection. */
	@Override
	public void close() {
		this.running = false;
		try {
			this.ageWatch.close();
		}
		catch (Exception ex) {
			// Removing from a list: nothing to fail.
		}
		this.sleeping = false;
		this.selector.wakeup();
		try {
			this.thread.join(TimeUnit.SECONDS.toMillis(2));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private void run() {
		long nextLook = System.nanoTime() + this.intervalNanos;
		try {
			while (this.running) {
				if (this.watched.isEmpty()) {
					// Nothing to watch until the timer reports a request older than the interval.
					this.sleeping = true;
					if (this.running) {
						this.selector.select(this::readable);
					}
					this.sleeping = false;
					look(System.nanoTime());
					nextLook = System.nanoTime() + this.intervalNanos;
					continue;
				}
				long waitMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextLook - System.nanoTime()));
				this.selector.select(this::readable, waitMillis);
				long now = System.nanoTime();
				if (now - nextLook >= 0) {
					look(now);
					nextLook = now + this.intervalNanos;
				}
			}
		}
		catch (IOException | RuntimeException | Error ex) {
			if (this.running) {
				LOGGER.log(Level.ERROR, "Stopped detecting clients that go away", ex);
			}
		}
		finally {
			this.watched.clear();
			try {
				this.selector.close();
			}
			catch (IOException ex) {
				// Nothing is left to watch.
			}
		}
	}

	/** A watched socket became readable: its end of stream, a reset, or bytes of the client's. */
	private void readable(SelectionKey key) {
		Watch watch = (Watch) key.attachment();
		if (watch.context.cause() != null) {
			key.cancel();
			return;
		}
		int waiting;
		try {
			waiting = watch.channel.socket().getInputStream().available();
		}
		catch (IOException ex) {
			waiting = 0; // reset or closed: gone as well
		}
		if (waiting > 0) {
			// A pipelined request (or TLS data): Tomcat's to read once this request is done.
			key.interestOps(0);
			return;
		}
		key.cancel();
		gone(watch.context);
	}

	/** Drops finished requests, starts watching those old enough, and checks HTTP/2 streams. */
	private void look(long now) throws IOException {
		boolean cancelledKeys = false;
		for (Iterator<Map.Entry<CancellableContext, Object>> it = this.watched.entrySet().iterator(); it.hasNext();) {
			Map.Entry<CancellableContext, Object> entry = it.next();
			if (entry.getKey().cause() != null) {
				if (entry.getValue() instanceof Watch watch && watch.key != null) {
					watch.key.cancel();
					cancelledKeys = true;
				}
				it.remove();
			}
		}
		if (cancelledKeys) {
			// Deregisters the cancelled keys (and lets Tomcat's close of those sockets complete)
			// before the same sockets may be registered again for their next request.
			this.selector.selectNow(this::readable);
		}
		List<CancellableContext> fresh = new ArrayList<>();
		this.runtime.live().forEach((context) -> {
			if (context.kind() == ContextKind.REQUEST && context.cause() == null && now - Contexts.startNanos(context) >= this.intervalNanos
					&& !this.watched.containsKey(context)) {
				fresh.add(context);
			}
		});
		for (CancellableContext context : fresh) {
			Object transport = Contexts.transport(context);
			if (transport == null) {
				continue; // recorded soon after registering; looked at again next time
			}
			TomcatConnections.Connection connection = this.connections.connectionOf(transport);
			this.watched.put(context, (connection != null) ? new Watch(context, connection) : UNWATCHABLE);
		}
		for (Object value : this.watched.values()) {
			if (value instanceof Watch watch) {
				watch.check();
			}
		}
	}

	private void gone(CancellableContext context) {
		if (LOGGER.isLoggable(Level.DEBUG)) {
			LOGGER.log(Level.DEBUG, "The client of request " + context.id() + " closed its connection after "
					+ TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - Contexts.startNanos(context))
					+ " ms; cancelling it");
		}
		context.cancel(CancellationCause.CLIENT_GONE);
	}

	/** One request being watched. */
	private final class Watch {

		final CancellableContext context;

		final TomcatConnections.Connection connection;

		final SocketChannel channel;

		SelectionKey key;

		/** Set for a socket that cannot be registered (a blocking one is not Tomcat's NIO). */
		boolean unregistrable;

		Watch(CancellableContext context, TomcatConnections.Connection connection) {
			this.context = context;
			this.connection = connection;
			this.channel = (connection instanceof TomcatConnections.Http11 http11) ? http11.channel() : null;
		}

		/** Registers an HTTP/1.1 socket once its body is read; checks an HTTP/2 stream. */
		void check() {
			if (this.connection instanceof TomcatConnections.Http2 http2) {
				if (this.context.cause() == null && http2.reset()) {
					gone(this.context);
				}
				return;
			}
			if (this.key != null || this.unregistrable || this.context.cause() != null
					|| !((TomcatConnections.Http11) this.connection).bodyFullyRead()) {
				return;
			}
			try {
				this.key = this.channel.register(ClientGoneDetector.this.selector, SelectionKey.OP_READ, this);
			}
			catch (ClosedChannelException ex) {
				gone(this.context);
			}
			catch (CancelledKeyException ex) {
				// A key of the connection's previous request is still being deregistered: next time.
			}
			catch (IllegalBlockingModeException ex) {
				this.unregistrable = true;
			}
		}

	}

}
