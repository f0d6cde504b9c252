package dev.reqctx.http;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A hostile HTTP/1.1 downstream on a real socket on 127.0.0.1: it answers the status line and
 * headers at once, then misbehaves with the body — trickles it, streams it without end (text
 * or a JSON array), or stops sending after a few bytes — faults that a read timeout catches
 * late or never. It reports when
 * it saw the client close each connection (end of stream or reset, noticed by reading the
 * socket, so it does not depend on the next write) and how many body bytes it managed to write.
 *
 * <p>One well-behaved mode, {@link #keepAlive(String)}, serves any number of requests per
 * connection, to check that a connection is reused after a body was read normally.
 */
final class SlowBodyServer implements AutoCloseable {

	private static final byte[] CRLF = { '\r', '\n' };

	private final ServerSocket serverSocket;

	private final Behaviour behaviour;

	private final AtomicInteger accepted = new AtomicInteger();

	private final AtomicInteger requests = new AtomicInteger();

	private final AtomicLong bodyBytesWritten = new AtomicLong();

	private final BlockingQueue<Long> headersSentAt = new LinkedBlockingQueue<>();

	private final BlockingQueue<Long> clientClosedAt = new LinkedBlockingQueue<>();

	private final List<Socket> sockets = new CopyOnWriteArrayList<>();

	private SlowBodyServer(Behaviour behaviour) throws IOException {
		this.behaviour = behaviour;
		this.serverSocket = new ServerSocket();
		this.serverSocket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
		Thread acceptor = new Thread(this::acceptLoop, "slow-body-acceptor");
		acceptor.setDaemon(true);
		acceptor.start();
	}

	/**
	 * Declares a body of a million bytes and sends one byte per {@code interval}.
	 * @param interval the pause between two bytes
	 * @return the started server
	 */
	static SlowBodyServer trickling(Duration interval) throws IOException {
		return new SlowBodyServer(new Behaviour(Mode.TRICKLE, 1, interval, 0, null));
	}

	/**
	 * Sends a chunked body that never ends: {@code chunkSize} bytes every {@code interval}.
	 * @param chunkSize the bytes in each chunk
	 * @param interval the pause between two chunks
	 * @return the started server
	 */
	static SlowBodyServer endless(int chunkSize, Duration interval) throws IOException {
		return new SlowBodyServer(new Behaviour(Mode.ENDLESS, chunkSize, interval, 0, null));
	}

	/**
	 * Sends a chunked JSON array of zeros that never ends: {@code chunkSize} bytes every
	 * {@code interval}.
	 * @param chunkSize the bytes in each chunk
	 * @param interval the pause between two chunks
	 * @return the started server
	 */
	static SlowBodyServer endlessJsonArray(int chunkSize, Duration interval) throws IOException {
		return new SlowBodyServer(new Behaviour(Mode.ENDLESS_JSON, chunkSize, interval, 0, null));
	}

	/**
	 * Declares a body of a million bytes, sends the first {@code bytes} of it and then nothing
	 * more, holding the connection open.
	 * @param bytes how many bytes to send
	 * @return the started server
	 */
	static SlowBodyServer stallingAfter(int bytes) throws IOException {
		return new SlowBodyServer(new Behaviour(Mode.STALL, bytes, Duration.ZERO, 0, null));
	}

	/**
	 * Sends the first {@code bytes} of a declared million at once, then one byte per
	 * {@code interval}.
	 * @param bytes how many bytes to send at once
	 * @param interval the pause between two of the following bytes
	 * @return the started server
	 */
	static SlowBodyServer tricklingAfter(int bytes, Duration interval) throws IOException {
		return new SlowBodyServer(new Behaviour(Mode.TRICKLE, 1, interval, bytes, null));
	}

	/**
	 * Answers every request with the given body and keeps the connection open for the next.
	 * @param body the body
	 * @return the started server
	 */
	static SlowBodyServer keepAlive(String body) throws IOException {
		return new SlowBodyServer(new Behaviour(Mode.KEEP_ALIVE, 0, Duration.ZERO, 0, body));
	}

	URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.serverSocket.getLocalPort() + path);
	}

	int acceptedConnections() {
		return this.accepted.get();
	}

	int requests() {
		return this.requests.get();
	}

	long bodyBytesWritten() {
		return this.bodyBytesWritten.get();
	}

	/**
	 * Waits until the server sent the status line and headers of a response.
	 * @return the {@link System#nanoTime()} at which it did
	 */
	long awaitHeadersSent(Duration timeout) throws InterruptedException {
		return poll(this.headersSentAt, timeout, "The server sent no response headers within " + timeout);
	}

	/**
	 * Waits until the client closed (or reset) a connection.
	 * @return the {@link System#nanoTime()} at which the server saw it
	 */
	long awaitClientClose(Duration timeout) throws InterruptedException {
		return poll(this.clientClosedAt, timeout, "The client did not close the connection within " + timeout);
	}

	/** Returns whether the client closed a connection, without waiting. */
	boolean clientClosedAny() {
		return !this.clientClosedAt.isEmpty();
	}

	private static long poll(BlockingQueue<Long> queue, Duration timeout, String failure) throws InterruptedException {
		Long at = queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
		if (at == null) {
			throw new AssertionError(failure);
		}
		return at;
	}

	private void acceptLoop() {
		while (!this.serverSocket.isClosed()) {
			try {
				Socket socket = this.serverSocket.accept();
				this.accepted.incrementAndGet();
				this.sockets.add(socket);
				Thread handler = new Thread(() -> handle(socket), "slow-body-connection");
				handler.setDaemon(true);
				handler.start();
			}
			catch (IOException ex) {
				return; // closed
			}
		}
	}

	private void handle(Socket socket) {
		try (socket) {
			InputStream in = new BufferedInputStream(socket.getInputStream());
			OutputStream out = socket.getOutputStream();
			if (this.behaviour.mode == Mode.KEEP_ALIVE) {
				serveKeepAlive(in, out);
				return;
			}
			if (!readRequestHead(in)) {
				return;
			}
			CountDownLatch closed = new CountDownLatch(1);
			watchForClose(in, closed);
			writeHead(out);
			writeBody(out, closed);
		}
		catch (IOException ex) {
			// the client went away; the watcher records when
		}
	}

	private void serveKeepAlive(InputStream in, OutputStream out) throws IOException {
		byte[] body = this.behaviour.body.getBytes(StandardCharsets.UTF_8);
		try {
			while (readRequestHead(in)) {
				out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length + "\r\n\r\n")
					.getBytes(StandardCharsets.ISO_8859_1));
				out.write(body);
				out.flush();
				this.headersSentAt.add(System.nanoTime());
				this.bodyBytesWritten.addAndGet(body.length);
			}
		}
		catch (IOException ex) {
			// a reset is a close too
		}
		this.clientClosedAt.add(System.nanoTime());
	}

	/** Reads a request head; returns {@code false} at end of stream. */
	private boolean readRequestHead(InputStream in) throws IOException {
		int matched = 0;
		boolean any = false;
		while (matched < 4) {
			int b = in.read();
			if (b == -1) {
				return false;
			}
			any = true;
			boolean expected = (matched % 2 == 0) ? b == '\r' : b == '\n';
			matched = expected ? matched + 1 : ((b == '\r') ? 1 : 0);
		}
		if (any) {
			this.requests.incrementAndGet();
		}
		return true;
	}

	/** Reads the rest of the connection on another thread, so a close shows without a write. */
	private void watchForClose(InputStream in, CountDownLatch closed) {
		Thread watcher = new Thread(() -> {
			try {
				while (in.read() != -1) {
					// nothing else is expected from the client
				}
			}
			catch (IOException ex) {
				// a reset is a close too
			}
			this.clientClosedAt.add(System.nanoTime());
			closed.countDown();
		}, "slow-body-close-watcher");
		watcher.setDaemon(true);
		watcher.start();
	}

	private void writeHead(OutputStream out) throws IOException {
		Mode mode = this.behaviour.mode;
		String framing = mode.chunked ? "Transfer-Encoding: chunked" : "Content-Length: 1000000";
		String type = (mode == Mode.ENDLESS_JSON) ? "application/json" : "text/plain";
		out.write(("HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\n" + framing + "\r\n\r\n")
			.getBytes(StandardCharsets.ISO_8859_1));
		out.flush();
		this.headersSentAt.add(System.nanoTime());
	}

	private void writeBody(OutputStream out, CountDownLatch closed) throws IOException {
		Behaviour b = this.behaviour;
		if (b.initialBytes > 0 || b.mode == Mode.STALL) {
			int bytes = (b.mode == Mode.STALL) ? b.chunkSize : b.initialBytes;
			write(out, filled(bytes), false);
		}
		if (b.mode == Mode.STALL) {
			awaitQuietly(closed, Duration.ofMinutes(1));
			return;
		}
		byte[] chunk;
		if (b.mode == Mode.ENDLESS_JSON) {
			write(out, "[".getBytes(StandardCharsets.ISO_8859_1), true);
			chunk = "0,".repeat(b.chunkSize / 2).getBytes(StandardCharsets.ISO_8859_1);
		}
		else {
			chunk = filled(b.chunkSize);
		}
		// The pause between writes is the fault being simulated; it ends early when the
		// client closes the connection.
		while (!awaitQuietly(closed, b.interval)) {
			write(out, chunk, b.mode.chunked);
		}
	}

	private void write(OutputStream out, byte[] data, boolean asChunk) throws IOException {
		if (asChunk) {
			out.write(Integer.toHexString(data.length).getBytes(StandardCharsets.ISO_8859_1));
			out.write(CRLF);
			out.write(data);
			out.write(CRLF);
		}
		else {
			out.write(data);
		}
		out.flush();
		this.bodyBytesWritten.addAndGet(data.length);
	}

	private static byte[] filled(int length) {
		byte[] data = new byte[length];
		Arrays.fill(data, (byte) 'x');
		return data;
	}

	/** Returns {@code true} if the latch opened within the timeout. */
	private static boolean awaitQuietly(CountDownLatch latch, Duration timeout) {
		try {
			return latch.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return true;
		}
	}

	@Override
	public void close() throws IOException {
		this.serverSocket.close();
		for (Socket socket : this.sockets) {
			socket.close();
		}
	}

	private enum Mode {

		TRICKLE(false), ENDLESS(true), ENDLESS_JSON(true), STALL(false), KEEP_ALIVE(false);

		private final boolean chunked;

		Mode(boolean chunked) {
			this.chunked = chunked;
		}

	}

	private record Behaviour(Mode mode, int chunkSize, Duration interval, int initialBytes, String body) {
	}

}
