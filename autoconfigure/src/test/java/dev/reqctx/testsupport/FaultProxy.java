package dev.reqctx.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on 127.0.0.1 that injects network faults between a client (the application under
 * test) and a real server (PostgreSQL, an HTTP server).
 *
 * <p>Faults, each switchable while connections are open:
 * <ul>
 * <li>{@linkplain #blackHole(boolean) black hole}: nothing is forwarded in either direction and
 * no connection is closed, like a host that stopped answering behind a firewall dropping its
 * packets. Bytes sent meanwhile wait, as TCP would retransmit them, and flow again once the
 * network heals; new connections are accepted but reach the server only then;
 * <li>{@linkplain #dropNextConnections(int) drop}: the next N connections are reset as soon as
 * they are accepted, so what the client sent on them never arrives (a lost cancel request);
 * <li>{@linkplain #delay(Duration) delay}: each forwarded chunk waits this long first.
 * </ul>
 * Threads are daemons, two per connection; {@link #close()} closes every socket.
 */
public final class FaultProxy implements AutoCloseable {

	private final ServerSocket server;

	private final InetSocketAddress target;

	private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

	private final AtomicInteger dropsLeft = new AtomicInteger();

	private final AtomicInteger accepted = new AtomicInteger();

	private final Object gate = new Object();

	private boolean blackHoled;

	private volatile long delayMillis;

	private volatile boolean closed;

	private FaultProxy(int targetPort) throws IOException {
		InetAddress loopback = InetAddress.getLoopbackAddress();
		this.target = new InetSocketAddress(loopback, targetPort);
		this.server = new ServerSocket(0, 50, loopback);
		Thread acceptor = new Thread(this::acceptLoop, "fault-proxy-accept-" + this.server.getLocalPort());
		acceptor.setDaemon(true);
		acceptor.start();
	}

	/**
	 * Starts a proxy to a server on 127.0.0.1.
	 * @param targetPort the server's port
	 * @return the running proxy
	 */
	public static FaultProxy start(int targetPort) {
		try {
			return new FaultProxy(targetPort);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not start a fault proxy", ex);
		}
	}

	/** Returns the port clients connect to. */
	public int port() {
		return this.server.getLocalPort();
	}

	/** Returns how many connections were accepted so far. */
	public int connectionsAccepted() {
		return this.accepted.get();
	}

	/**
	 * Stops (or resumes) forwarding in both directions, without closing anything.
	 * @param on whether the network is black-holed
	 */
	public void blackHole(boolean on) {
		synchronized (this.gate) {
			this.blackHoled = on;
			this.gate.notifyAll();
		}
	}

	/**
	 * Resets the next connections as soon as they are accepted.
	 * @param count how many
	 */
	public void dropNextConnections(int count) {
		this.dropsLeft.set(count);
	}

	/**
	 * Delays every forwarded chunk.
	 * @param delay how long, or zero for none
	 */
	public void delay(Duration delay) {
		this.delayMillis = delay.toMillis();
	}

	private void acceptLoop() {
		while (!this.closed) {
			Socket client;
			try {
				client = this.server.accept();
			}
			catch (IOException ex) {
				return;
			}
			this.accepted.incrementAndGet();
			if (this.dropsLeft.getAndUpdate((n) -> Math.max(0, n - 1)) > 0) {
				reset(client);
				continue;
			}
			this.sockets.add(client);
			Thread connector = new Thread(() -> connect(client), "fault-proxy-conn-" + client.getPort());
			connector.setDaemon(true);
			connector.start();
		}
	}

	private void connect(Socket client) {
		Socket upstream = new Socket();
		try {
			awaitOpen();
			this.sockets.add(upstream);
			upstream.connect(this.target, 5000);
			Thread back = new Thread(() -> pump(upstream, client), "fault-proxy-back-" + client.getPort());
			back.setDaemon(true);
			back.start();
			pump(client, upstream);
		}
		catch (IOException | InterruptedException ex) {
			closeBoth(client, upstream);
		}
	}

	private void pump(Socket from, Socket to) {
		byte[] buffer = new byte[16 * 1024];
		try {
			InputStream in = from.getInputStream();
			OutputStream out = to.getOutputStream();
			int n;
			while ((n = in.read(buffer)) >= 0) {
				// A chunk read while the network is down waits for it to heal, as TCP would.
				awaitOpen();
				long delay = this.delayMillis;
				if (delay > 0) {
					Thread.sleep(delay);
				}
				out.write(buffer, 0, n);
				out.flush();
			}
			// The end of the stream travels like data: not through a black hole.
			awaitOpen();
			to.shutdownOutput();
		}
		catch (IOException | InterruptedException ex) {
			closeBoth(from, to);
		}
	}

	private void awaitOpen() throws InterruptedException {
		synchronized (this.gate) {
			while (this.blackHoled && !this.closed) {
				this.gate.wait();
			}
		}
	}

	private void closeBoth(Socket a, Socket b) {
		closeQuietly(a);
		closeQuietly(b);
	}

	private void closeQuietly(Socket socket) {
		this.sockets.remove(socket);
		try {
			socket.close();
		}
		catch (IOException ex) {
			// closing anyway
		}
	}

	private static void reset(Socket socket) {
		try {
			socket.setSoLinger(true, 0);
			socket.close();
		}
		catch (IOException ex) {
			// closing anyway
		}
	}

	@Override
	public void close() {
		this.closed = true;
		blackHole(false);
		try {
			this.server.close();
		}
		catch (IOException ex) {
			// closing anyway
		}
		for (Socket socket : this.sockets) {
			closeQuietly(socket);
		}
	}

}
