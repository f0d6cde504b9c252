package dev.reqctx.web;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.RequestFacade;
import org.apache.coyote.ActionCode;
import org.apache.coyote.InputBuffer;
import org.apache.coyote.http11.Http11InputBuffer;
import org.apache.tomcat.util.net.NioChannel;
import org.apache.tomcat.util.net.SocketWrapperBase;

/**
 * Finds, from a servlet request that Tomcat is processing, what {@link ClientGoneDetector}
 * watches: the socket of an HTTP/1.1 request on the NIO connector, or the stream of an HTTP/2
 * request.
 *
 * <p>Tomcat exposes neither publicly: the facade's request, the HTTP/1.1 input buffer's socket
 * wrapper and the HTTP/2 stream's state are read reflectively. If a Tomcat version moves them,
 * {@link #problem()} says what is missing and detection stays off instead of failing requests.
 * Everything here runs on the detector's thread, never on a request thread.
 */
final class TomcatConnections {

	private static final String STREAM = "org.apache.coyote.http2.Stream";

	private static final String RESET_RECEIVED = "CLOSED_RST_RX";

	private final Field facadeRequest;

	private final Field http11Wrapper;

	private final Class<?> streamClass;

	private final Field streamState;

	private final Method stateName;

	private final String problem;

	TomcatConnections() {
		Field facade = null;
		Field wrapper = null;
		Class<?> stream = null;
		Field state = null;
		Method name = null;
		String problem = null;
		try {
			facade = accessible(RequestFacade.class.getDeclaredField("request"));
			wrapper = accessible(Http11InputBuffer.class.getDeclaredField("wrapper"));
		}
		catch (ReflectiveOperationException | RuntimeException ex) {
			problem = "this Tomcat has no " + ex.getMessage();
		}
		try {
			stream = Class.forName(STREAM, false, RequestFacade.class.getClassLoader());
			state = accessible(declaredField(stream, "state"));
			name = state.getType().getDeclaredMethod("getCurrentStateName");
			name.setAccessible(true);
		}
		catch (ReflectiveOperationException | RuntimeException | LinkageError ex) {
			// HTTP/2 requests are then not watched; HTTP/1.1 ones still are.
			stream = null;
			state = null;
			name = null;
		}
		this.facadeRequest = facade;
		this.http11Wrapper = wrapper;
		this.streamClass = stream;
		this.streamState = state;
		this.stateName = name;
		this.problem = problem;
	}

	/**
	 * Returns why connections cannot be found in this Tomcat, or {@code null} if they can.
	 * @return the problem, or {@code null}
	 */
	String problem() {
		return this.problem;
	}

	/**
	 * Returns the connection a request came over.
	 * @param transport the servlet request, as the filter recorded it
	 * @return the connection, or {@code null} if it cannot be watched (not Tomcat's, NIO2, …)
	 */
	Connection connectionOf(Object transport) {
		if (this.problem != null || !(transport instanceof ServletRequest servletRequest)) {
			return null;
		}
		try {
			ServletRequest unwrapped = servletRequest;
			while (unwrapped instanceof ServletRequestWrapper wrapper) {
				unwrapped = wrapper.getRequest();
			}
			if (!(unwrapped instanceof RequestFacade facade)
					|| !(this.facadeRequest.get(facade) instanceof Request request)) {
				return null;
			}
			org.apache.coyote.Request coyote = request.getCoyoteRequest();
			InputBuffer input = coyote.getInputBuffer();
			if (input instanceof Http11InputBuffer http11) {
				if (this.http11Wrapper.get(http11) instanceof SocketWrapperBase<?> wrapper
						&& wrapper.getSocket() instanceof NioChannel channel && channel.getIOChannel() != null) {
					return new Http11(channel.getIOChannel(), coyote);
				}
				return null;
			}
			Object stream = (input != null) ? outerStream(input) : null;
			return (stream != null) ? new Http2(stream) : null;
		}
		catch (ReflectiveOperationException | RuntimeException ex) {
			return null;
		}
	}

	private Object outerStream(Object input) throws IllegalAccessException {
		if (this.streamClass == null) {
			return null;
		}
		for (Class<?> type = input.getClass(); type != null && type != Object.class; type = type.getSuperclass()) {
			for (Field field : type.getDeclaredFields()) {
				if (field.isSynthetic() && field.getType() == this.streamClass) {
					field.setAccessible(true);
					return field.get(input);
				}
			}
		}
		return null;
	}

	/** A field of the class or of a superclass (the stream's state is its superclass's). */
	private static Field declaredField(Class<?> type, String name) throws NoSuchFieldException {
		for (Class<?> c = type; c != null; c = c.getSuperclass()) {
			for (Field field : c.getDeclaredFields()) {
				if (field.getName().equals(name)) {
					return field;
				}
			}
		}
		throw new NoSuchFieldException(type.getName() + "." + name);
	}

	private static Field accessible(Field field) {
		field.setAccessible(true);
		return field;
	}

	/** A request's connection, as far as the detector needs it. */
	abstract static sealed class Connection permits Http11, Http2 {

	}

	/** An HTTP/1.1 request on the NIO connector: its socket can be watched for end of stream. */
	static final class Http11 extends Connection {

		private final SocketChannel channel;

		private final org.apache.coyote.Request request;

		Http11(SocketChannel channel, org.apache.coyote.Request request) {
			this.channel = channel;
			this.request = request;
		}

		SocketChannel channel() {
			return this.channel;
		}

		/**
		 * Whether the request's body has been read to its end (a request without a body has).
		 * Until then the socket carries the body and the detector leaves it alone.
		 */
		boolean bodyFullyRead() {
			AtomicBoolean read = new AtomicBoolean();
			this.request.action(ActionCode.REQUEST_BODY_FULLY_READ, read);
			return read.get();
		}

	}

	/** An HTTP/2 stream: Tomcat reads the connection itself and records a reset in the stream's state. */
	final class Http2 extends Connection {

		private final Object stream;

		Http2(Object stream) {
			this.stream = stream;
		}

		/**
		 * Whether the client reset the stream, or the connection closed (Tomcat resets every
		 * stream of a connection that closes).
		 */
		boolean reset() {
			try {
				return RESET_RECEIVED.equals(TomcatConnections.this.stateName
					.invoke(TomcatConnections.this.streamState.get(this.stream)));
			}
			catch (ReflectiveOperationException | RuntimeException ex) {
				return false;
			}
		}

	}

}
