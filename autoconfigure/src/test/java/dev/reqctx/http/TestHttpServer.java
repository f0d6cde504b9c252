package dev.reqctx.http;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bare HTTP/1.1 server on a real socket on 127.0.0.1 (or another local address), for tests
 * that need to see exactly what reaches the wire: it counts accepted connections, records each
 * request's head, and either answers {@code 200} at once or never answers and reports when the
 * client closes the connection.
 */
public final class TestHttpServer implements AutoCloseable {

	private final ServerSocket serverSocket;

	private final boolean answer;

	private final AtomicInteger accepted = new AtomicInteger();

	private final BlockingQueue<RecordedRequest> requests = new LinkedBlockingQueue<>();

	/** For each connection the server never answered, when it saw the client close it. */
	private final BlockingQueue<Long> closedAt = new LinkedBlockingQueue<>();

	private final List<Socket> sockets = new CopyOnWriteArrayList<>();

	private final Thread acceptor;

	private TestHttpServer(boolean answer, InetAddress address) throws IOException {
		this.answer = answer;
		this.serverSocket = new ServerSocket();
		this.serverSocket.bind(new InetSocketAddress(address, 0));
		this.acceptor = new Thread(this::acceptLoop, "test-http-acceptor");
		this.acceptor.setDaemon(true);
		this.acceptor.start();
	}

	/** A server that reads each request and never answers it. */
	public static TestHttpServer silent() throws IOException {
		return new TestHttpServer(false, InetAddress.getLoopbackAddress());
	}

	/** A server that answers every request with {@code 200 ok} and closes the connection. */
	public static TestHttpServer answering() throws IOException {
		return answering(InetAddress.getLoopbackAddress());
	}

	/**
	 * A server on the given local address that answers every request with {@code 200 ok} and
	 * closes the connection. {@link #uri(String)} still names 127.0.0.1: build the URI for
	 * another address from {@link #port()}.
	 */
	public static TestHttpServer answering(InetAddress address) throws IOException {
		return new TestHttpServer(true, address);
	}

	public URI uri(String pathAndQuery) {
		return URI.create("http://127.0.0.1:" + this.serverSocket.getLocalPort() + pathAndQuery);
	}

	public int port() {
		return this.serverSocket.getLocalPort();
	}

	public int acceptedConnections() {
		return this.accepted.get();
	}

	public RecordedRequest takeRequest(Duration timeout) throws InterruptedException {
		RecordedRequest request = this.requests.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
		if (request == null) {
			throw new AssertionError("No request reached the server within " + timeout);
		}
		return request;
	}

	/**
	 * Waits until the client closed a connection the server never answered.
	 * @return the {@link System#nanoTime()} at which the server saw it closed
	 */
	public long awaitClientClose(Duration timeout) throws InterruptedException {
		Long at = this.closedAt.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
		if (at == null) {
			throw new AssertionError("The client did not close the connection within " + timeout);
		}
		return at;
	}

	private void acceptLoop() {
		while (!this.serverSocket.isClosed()) {
			try {
				Socket socket = this.serverSocket.accept();
				this.accepted.incrementAndGet();
				this.sockets.add(socket);
				Thread handler = new Thread(() -> handle(socket), "test-http-connection");
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
			InputStream in = socket.getInputStream();
			BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1));
			String requestLine = reader.readLine();
			if (requestLine == null) {
				return;
			}
			Map<String, String> headers = new LinkedHashMap<>();
			for (String line = reader.readLine(); line != null && !line.isEmpty(); line = reader.readLine()) {
				int colon = line.indexOf(':');
				headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
			}
			this.requests.add(new RecordedRequest(requestLine, headers));
			if (this.answer) {
				OutputStream out = socket.getOutputStream();
				out.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
					.getBytes(StandardCharsets.ISO_8859_1));
				out.flush();
				return;
			}
			// Never answer: block until the client gives up on the connection.
			try {
				while (reader.read() != -1) {
					// ignore anything else the client sends
				}
			}
			catch (IOException ex) {
				// a reset is a close too
			}
			this.closedAt.add(System.nanoTime());
		}
		catch (IOException ex) {
			// the connection went away while reading the request head
		}
	}

	@Override
	public void close() throws IOException {
		this.serverSocket.close();
		for (Socket socket : this.sockets) {
			socket.close();
		}
	}

	/** The head of a request as it reached the server; header names are lower case. */
	public record RecordedRequest(String requestLine, Map<String, String> headers) {

		public String header(String name) {
			return this.headers.get(name.toLowerCase(Locale.ROOT));
		}

	}

}
