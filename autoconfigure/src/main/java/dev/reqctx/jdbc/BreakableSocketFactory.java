package dev.reqctx.jdbc;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import javax.net.SocketFactory;

/**
 * A {@link SocketFactory} for PgJDBC ({@code socketFactory=dev.reqctx.jdbc.BreakableSocketFactory})
 * whose sockets can be closed under a thread that is stuck reading one.
 *
 * <p>A pool validates an idle connection on the borrowing thread before handing it out
 * (HikariCP's {@code isValid}); when the database host stops answering, that thread blocks in a
 * socket read that a thread interrupt does not break on a platform thread, for as long as the
 * pool's validation timeout. When the context of a thread waiting for a connection is cancelled,
 * reqctx closes the socket that thread is reading, so the validation fails at once and the wait
 * ends with the context's error. reqctx's JDBC auto-configuration sets this factory on
 * PostgreSQL HikariCP pools that have none.
 *
 * <p>Per read, a socket records its reader in a plain field; nothing else is added to the
 * driver's path.
 */
public final class BreakableSocketFactory extends SocketFactory {

	private static final Set<BreakableSocket> OPEN = ConcurrentHashMap.newKeySet();

	/** Creates the factory; PgJDBC creates one per connection. */
	public BreakableSocketFactory() {
	}

	@Override
	public Socket createSocket() {
		return new BreakableSocket();
	}

	@Override
	public Socket createSocket(String host, int port) throws IOException {
		return connected(new InetSocketAddress(host, port), null);
	}

	@Override
	public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
		return connected(new InetSocketAddress(host, port), new InetSocketAddress(localHost, localPort));
	}

	@Override
	public Socket createSocket(InetAddress host, int port) throws IOException {
		return connected(new InetSocketAddress(host, port), null);
	}

	@Override
	public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
			throws IOException {
		return connected(new InetSocketAddress(address, port), new InetSocketAddress(localAddress, localPort));
	}

	private static Socket connected(SocketAddress remote, SocketAddress local) throws IOException {
		Socket socket = new BreakableSocket();
		if (local != null) {
			socket.bind(local);
		}
		socket.connect(remote);
		return socket;
	}

	/** Returns whether any socket of this factory is open, so breaking can be skipped. */
	static boolean inUse() {
		return !OPEN.isEmpty();
	}

	/**
	 * Closes every socket the given thread is blocked reading.
	 * @param reader the thread
	 * @return how many sockets were closed
	 */
	static int closeSocketsReadBy(Thread reader) {
		int closed = 0;
		for (BreakableSocket socket : OPEN) {
			if (socket.reader() == reader) {
				try {
					socket.close();
				}
				catch (IOException ex) {
					// it is closed either way
				}
				closed++;
			}
		}
		return closed;
	}

	private static final class BreakableSocket extends Socket {

		private static final VarHandle READER;

		static {
			try {
				READER = MethodHandles.lookup().findVarHandle(BreakableSocket.class, "reader", Thread.class);
			}
			catch (ReflectiveOperationException ex) {
				throw new ExceptionInInitializerError(ex);
			}
		}

		@SuppressWarnings("unused") // accessed through READER
		private Thread reader;

		private InputStream in;

		Thread reader() {
			return (Thread) READER.getOpaque(this);
		}

		@Override
		public void connect(SocketAddress endpoint, int timeout) throws IOException {
			super.connect(endpoint, timeout);
			OPEN.add(this);
		}

		@Override
		public synchronized InputStream getInputStream() throws IOException {
			if (this.in == null) {
				this.in = new ReaderRecordingStream(this, super.getInputStream());
			}
			return this.in;
		}

		@Override
		public synchronized void close() throws IOException {
			OPEN.remove(this);
			super.close();
		}

		void reading(Thread thread) {
			// Opaque: the breaker only needs to see it eventually (it looks again each retry
			// interval), and a plain store keeps the read path free of fences.
			READER.setOpaque(this, thread);
		}

	}

	private static final class ReaderRecordingStream extends FilterInputStream {

		private final BreakableSocket socket;

		ReaderRecordingStream(BreakableSocket socket, InputStream in) {
			super(in);
			this.socket = socket;
		}

		@Override
		public int read() throws IOException {
			this.socket.reading(Thread.currentThread());
			try {
				return this.in.read();
			}
			finally {
				this.socket.reading(null);
			}
		}

		@Override
		public int read(byte[] b, int off, int len) throws IOException {
			this.socket.reading(Thread.currentThread());
			try {
				return this.in.read(b, off, len);
			}
			finally {
				this.socket.reading(null);
			}
		}

	}

}
