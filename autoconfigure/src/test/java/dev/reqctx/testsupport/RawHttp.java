package dev.reqctx.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One HTTP/1.1 connection on a plain socket, for tests that must control the bytes and the
 * socket itself: pipelining, half-written bodies, a client closing while its request runs.
 * Reads are bounded by a timeout so that a test can never hang.
 */
public final class RawHttp implements AutoCloseable {

	private final Socket socket;

	private final InputStream in;

	private final OutputStream out;

	private final int port;

	/**
	 * Connects to {@code 127.0.0.1}.
	 * @param port the server's port
	 * @throws IOException if it cannot connect
	 */
	public RawHttp(int port) throws IOException {
		this.port = port;
		this.socket = new Socket();
		this.socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
		this.socket.setSoTimeout(20_000);
		this.socket.setTcpNoDelay(true);
		this.in = this.socket.getInputStream();
		this.out = this.socket.getOutputStream();
	}

	/**
	 * Returns the bytes of a GET request.
	 * @param path the path and query
	 * @return the request
	 */
	public String get(String path) {
		return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + this.port + "\r\n\r\n";
	}

	/**
	 * Writes bytes to the socket.
	 * @param text the bytes, as ISO-8859-1 text
	 * @throws IOException if the write fails
	 */
	public void send(String text) throws IOException {
		this.out.write(text.getBytes(StandardCharsets.ISO_8859_1));
		this.out.flush();
	}

	/**
	 * Reads one response (a {@code Content-Length} or chunked body).
	 * @return the response
	 * @throws IOException if the connection ends first or the read times out
	 */
	public Response read() throws IOException {
		String head = readHead();
		int status = Integer.parseInt(head.substring(9, 12));
		String lower = head.toLowerCase(Locale.ROOT);
		ByteArrayOutputStream body = new ByteArrayOutputStream();
		if (lower.contains("transfer-encoding: chunked")) {
			while (true) {
				int size = Integer.parseInt(readLine().trim().split(";")[0], 16);
				if (size == 0) {
					readLine();
					break;
				}
				body.write(this.in.readNBytes(size));
				readLine();
			}
		}
		else {
			int at = lower.indexOf("content-length:");
			if (at >= 0) {
				int end = lower.indexOf("\r\n", at);
				body.write(this.in.readNBytes(Integer.parseInt(head.substring(at + 15, end).trim())));
			}
		}
		return new Response(status, head, body.toString(StandardCharsets.UTF_8));
	}

	private String readHead() throws IOException {
		StringBuilder head = new StringBuilder();
		while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
			int b = this.in.read();
			if (b < 0) {
				throw new IOException("The connection ended before a response; read: " + head);
			}
			head.append((char) b);
		}
		return head.toString();
	}

	private String readLine() throws IOException {
		StringBuilder line = new StringBuilder();
		int b;
		while ((b = this.in.read()) >= 0 && b != '\n') {
			line.append((char) b);
		}
		return line.toString();
	}

	/**
	 * Closes the connection: a FIN, since nothing the server sent is left unread.
	 */
	@Override
	public void close() throws IOException {
		this.socket.close();
	}

	/**
	 * One response.
	 * @param status the status code
	 * @param head the status line and headers
	 * @param body the body
	 */
	public record Response(int status, String head, String body) {
	}

}
