package dev.reqctx.grpc;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.reqctx.CancellableContext;
import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.Registration;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.StandardKeys;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.RequestIds;
import dev.reqctx.spi.RequestInfo;
import dev.reqctx.spi.ThreadContextBinder;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * A {@link ServerInterceptor} that gives every inbound gRPC call a {@link ContextKind#REQUEST}
 * context, as the servlet filter does for HTTP requests.
 *
 * <p>Per call:
 * <ul>
 * <li>the context's deadline is the call's inbound deadline (the client's {@code grpc-timeout}),
 * or the {@linkplain #withDefaultTimeout(Duration) default timeout} when the client sent none or a
 * longer one; without either the context has no deadline;
 * <li>its request id is the {@code x-request-id} metadata when it is 1–128 characters of
 * {@code A-Z a-z 0-9 - _ . : / + = @}, a random UUID otherwise;
 * <li>it is listed in the application's live tree (method {@code POST}, path
 * {@code /package.Service/Method}, as on the wire) while the call runs, and bound to the thread
 * of each of the call's callbacks ({@code onMessage}, {@code onHalfClose}, where a unary or
 * client-streaming handler runs, {@code onReady}, {@code onCancel}, {@code onComplete}) for that
 * callback only: the server's executor threads never keep it;
 * <li>it is cancelled with {@link CancellationCause#CLIENT_GONE} the moment the client cancels
 * the call or its connection breaks, and with {@link CancellationCause#DEADLINE_EXCEEDED} when the
 * deadline passes (or the client resets the stream within 100 ms of it: its own deadline, the
 * same budget, started earlier), while the handler is still running: gRPC reports both through the call's
 * {@link Context}, whose listener runs off the call's serialized executor, not through
 * {@code onCancel}, which waits for the handler to return. SQL, outbound HTTP and outbound gRPC
 * the handler started are stopped with it;
 * <li>a cancel from elsewhere (an operator, the default timeout, shutdown) closes the call at
 * once with {@code CANCELLED}, {@code DEADLINE_EXCEEDED} or {@code UNAVAILABLE}; what the
 * handler sends after that is dropped;
 * <li>a handler that fails because of the cancellation (it throws, or closes the call with an
 * error status, after the context was cancelled) has the call closed with that status instead
 * of {@code UNKNOWN};
 * <li>the context is completed (leftover work cancelled with {@link CancellationCause#COMPLETED})
 * when the handler closes the call, or when gRPC reports the call complete or cancelled.
 * </ul>
 *
 * <p>Register it as the outermost interceptor, so that the others and the handler run in the
 * context (with Spring gRPC, the auto-configuration registers it as a global interceptor):
 *
 * <pre>
 * Server server = ServerBuilder.forPort(9090)
 *         .addService(ServerInterceptors.intercept(service, new ContextServerInterceptor(runtime)))
 *         .build();
 * </pre>
 */
public final class ContextServerInterceptor implements ServerInterceptor {

	/** The metadata key of the request id. */
	public static final Metadata.Key<String> REQUEST_ID_KEY = Metadata.Key.of("x-request-id",
			Metadata.ASCII_STRING_MARSHALLER);

	/** How long before the inbound deadline a client's reset still counts as the deadline's. */
	private static final long DEADLINE_SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

	private final ContextRuntime runtime;

	/** The default timeout in nanoseconds, {@link Long#MAX_VALUE} for none. */
	private final long defaultNanos;

	private final ContextObserver observer;

	private final ThreadContextBinder binder;

	/**
	 * Creates an interceptor whose calls belong to the given runtime, with no default timeout.
	 * @param runtime the application the calls belong to: their live tree and diagnostics
	 */
	public ContextServerInterceptor(ContextRuntime runtime) {
		this(Objects.requireNonNull(runtime, "runtime must not be null"), Long.MAX_VALUE, ContextObserver.NONE,
				ThreadContextBinder.NONE);
	}

	private ContextServerInterceptor(ContextRuntime runtime, long defaultNanos, ContextObserver observer,
			ThreadContextBinder binder) {
		this.runtime = runtime;
		this.defaultNanos = defaultNanos;
		this.observer = observer;
		this.binder = binder;
	}

	/**
	 * Returns a copy that gives each call at most the given time: the deadline of a call the
	 * client sent without a deadline, or with a later one.
	 * @param timeout the timeout, positive; {@code null} for none
	 * @return the new interceptor
	 */
	public ContextServerInterceptor withDefaultTimeout(Duration timeout) {
		long nanos = Long.MAX_VALUE;
		if (timeout != null) {
			if (timeout.isNegative() || timeout.isZero()) {
				throw new IllegalArgumentException("timeout must be positive, was " + timeout);
			}
			nanos = saturatedNanos(timeout);
		}
		return new ContextServerInterceptor(this.runtime, nanos, this.observer, this.binder);
	}

	/**
	 * Returns a copy that reports calls to the given observer (as requests, with the full method
	 * name as their route).
	 * @param observer the observer
	 * @return the new interceptor
	 */
	public ContextServerInterceptor withObserver(ContextObserver observer) {
		return new ContextServerInterceptor(this.runtime, this.defaultNanos,
				Objects.requireNonNull(observer, "observer must not be null"), this.binder);
	}

	/**
	 * Returns a copy that mirrors each call's context into thread-bound state (the logging MDC)
	 * while its callbacks run.
	 * @param binder the binder
	 * @return the new interceptor
	 */
	public ContextServerInterceptor withThreadContextBinder(ThreadContextBinder binder) {
		return new ContextServerInterceptor(this.runtime, this.defaultNanos, this.observer,
				Objects.requireNonNull(binder, "binder must not be null"));
	}

	@Override
	public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
			ServerCallHandler<ReqT, RespT> next) {
		// The call's gRPC context: it carries the inbound deadline, and gRPC cancels it when the
		// client goes away.
		Context grpcContext = Context.current();
		Deadline inbound = grpcContext.getDeadline();
		long nanos = this.defaultNanos;
		if (inbound != null) {
			nanos = Math.min(nanos, Math.max(0, inbound.timeRemaining(TimeUnit.NANOSECONDS)));
		}
		String requestId = headers.get(REQUEST_ID_KEY);
		if (requestId == null || !RequestIds.isValid(requestId)) {
			requestId = RequestIds.generate();
		}
		String route = "/" + call.getMethodDescriptor().getFullMethodName();
		CancellableContext ctx = Contexts.newLiveRoot(this.runtime,
				RequestContext.root().withValue(StandardKeys.REQUEST_ID, requestId), ContextKind.REQUEST,
				new RequestInfo("POST", route), nanos, TimeUnit.NANOSECONDS);
		this.observer.requestStarted(ctx);
		InboundCall<ReqT, RespT> inboundCall = new InboundCall<>(call, ctx, route, grpcContext);
		ServerCall.Listener<ReqT> listener;
		try (Binding binding = inboundCall.bind()) {
			listener = next.startCall(inboundCall, headers);
		}
		catch (RuntimeException | Error ex) {
			inboundCall.complete();
			throw ex;
		}
		return new InboundListener<>(listener, inboundCall);
	}

	private static long saturatedNanos(Duration duration) {
		try {
			return duration.toNanos();
		}
		catch (ArithmeticException ex) {
			return Long.MAX_VALUE;
		}
	}

	@Override
	public String toString() {
		return "ContextServerInterceptor[runtime=" + this.runtime.name() + ", defaultTimeout="
				+ ((this.defaultNanos == Long.MAX_VALUE) ? "none" : Duration.ofNanos(this.defaultNanos)) + "]";
	}

	/** What a callback bound; closing it restores the thread. */
	private interface Binding extends AutoCloseable {

		@Override
		void close();

	}

	/**
	 * The call as the handler sees it. Its outbound methods hold the call's monitor, so that the
	 * close a cancel makes from another thread never runs concurrently with them ({@code
	 * ServerCall} is not thread-safe).
	 */
	private final class InboundCall<ReqT, RespT> extends ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT>
			implements Context.CancellationListener {

		private final CancellableContext context;

		private final String route;

		private final Context grpcContext;

		private final Registration onCancel;

		private final AtomicBoolean completed = new AtomicBoolean();

		/** Whether the call was closed, by the handler or by a cancel. Guarded by this. */
		private boolean closed;

		/** Set before the handler's close reaches gRPC, so that its end is not taken for a cancel. */
		private volatile boolean closing;

		InboundCall(ServerCall<ReqT, RespT> delegate, CancellableContext context, String route, Context grpcContext) {
			super(delegate);
			this.context = context;
			this.route = route;
			this.grpcContext = grpcContext;
			// Runs at once if the call's context is already cancelled.
			grpcContext.addListener(this, Runnable::run);
			this.onCancel = context.onCancel(this::contextCancelled);
		}

		Binding bind() {
			CancellableContext ctx = this.context;
			Contexts.runningOn(ctx, Thread.currentThread());
			Scope scope = ctx.attach();
			ThreadContextBinder.Restore restore = ContextServerInterceptor.this.binder.bind(ctx);
			return () -> {
				try {
					restore.close();
				}
				finally {
					scope.close();
					Contexts.runningOn(ctx, null);
				}
			};
		}

		/** gRPC cancelled the call: the client went away, or the inbound deadline passed. */
		@Override
		public void cancelled(Context grpcContext) {
			if (grpcContext.cancellationCause() != null) {
				lost();
			}
			// else the call ended normally, and gRPC released its context
		}

		/** The call is gone from under the handler: cancel the context with the right cause. */
		void lost() {
			if (this.closing) {
				return; // the handler or a cancel answered first: the end of the stream follows
			}
			Deadline deadline = this.grpcContext.getDeadline();
			// A client resets the stream when its own deadline passes, which is the same budget as
			// the server's but started earlier by the time the call took to arrive: a reset that
			// comes that close to the deadline is the deadline's.
			boolean expired = this.grpcContext.cancellationCause() instanceof TimeoutException
					|| (deadline != null && deadline.timeRemaining(TimeUnit.NANOSECONDS) <= DEADLINE_SLACK_NANOS);
			this.context.cancel(expired ? CancellationCause.DEADLINE_EXCEEDED : CancellationCause.CLIENT_GONE);
		}

		/** The reqctx context was cancelled: answer the client now, if there is one to answer. */
		private void contextCancelled() {
			CancellationCause cause = this.context.cause();
			if (cause == CancellationCause.COMPLETED || cause == CancellationCause.CLIENT_GONE) {
				return;
			}
			ContextCancelledException cancelled = Contexts.cancellationException(this.context, null);
			synchronized (this) {
				if (this.closed) {
					return;
				}
				this.closed = true;
				this.closing = true;
				super.close(GrpcStatuses.of(cancelled), new Metadata());
			}
		}

		@Override
		public void sendHeaders(Metadata headers) {
			synchronized (this) {
				if (!this.closed) {
					super.sendHeaders(headers);
				}
			}
		}

		@Override
		public void sendMessage(RespT message) {
			synchronized (this) {
				if (!this.closed) {
					super.sendMessage(message);
				}
			}
		}

		@Override
		public void close(Status status, Metadata trailers) {
			synchronized (this) {
				if (this.closed) {
					return; // already answered by a cancel
				}
				this.closed = true;
				this.closing = true;
				super.close(statusFor(status), trailers);
			}
			complete();
		}

		/**
		 * Closes the call with the cancellation's status when its handler failed in a callback
		 * because of it (gRPC would answer {@code UNKNOWN} and log the exception).
		 * @return whether the failure was the cancellation's and the call is closed
		 */
		boolean closeFailed(RuntimeException failure) {
			ContextCancelledException cancelled = ContextCancelledException.findIn(failure);
			if (cancelled == null) {
				cancelled = Contexts.cancellationException(this.context, failure);
			}
			if (cancelled == null) {
				return false;
			}
			synchronized (this) {
				if (!this.closed) {
					this.closed = true;
					this.closing = true;
					super.close(GrpcStatuses.of(cancelled), new Metadata());
				}
			}
			return true;
		}

		/**
		 * The status to close with: a failure after the context's cancellation (the handler's
		 * SQL stopped by it, say) is the cancellation's doing, whatever the handler made of it.
		 */
		private Status statusFor(Status status) {
			if (status.isOk()) {
				return status;
			}
			ContextCancelledException cancelled = ContextCancelledException.findIn(status.getCause());
			if (cancelled == null) {
				CancellationCause cause = this.context.cause();
				if (cause == null || !cause.isFailure()) {
					return status;
				}
				cancelled = Contexts.cancellationException(this.context, status.getCause());
			}
			return GrpcStatuses.of(cancelled);
		}

		/** Ends the call's context: completed, out of the live tree, counted. Idempotent. */
		void complete() {
			if (!this.completed.compareAndSet(false, true)) {
				return;
			}
			this.grpcContext.removeListener(this);
			this.onCancel.remove();
			CancellationCause cause = this.context.cause();
			this.context.cancel(CancellationCause.COMPLETED);
			Contexts.unregister(this.context);
			ContextServerInterceptor.this.observer.requestFinished(this.context, this.route,
					(cause != null) ? cause : CancellationCause.COMPLETED);
		}

	}

	/** Runs each callback of the call with its context bound, and only for that callback. */
	private static final class InboundListener<ReqT>
			extends ForwardingServerCallListener.SimpleForwardingServerCallListener<ReqT> {

		private final InboundCall<ReqT, ?> call;

		InboundListener(ServerCall.Listener<ReqT> delegate, InboundCall<ReqT, ?> call) {
			super(delegate);
			this.call = call;
		}

		@Override
		public void onMessage(ReqT message) {
			try (Binding binding = this.call.bind()) {
				super.onMessage(message);
			}
			catch (RuntimeException ex) {
				if (!this.call.closeFailed(ex)) {
					throw ex;
				}
			}
		}

		@Override
		public void onHalfClose() {
			try (Binding binding = this.call.bind()) {
				super.onHalfClose();
			}
			catch (RuntimeException ex) {
				if (!this.call.closeFailed(ex)) {
					throw ex;
				}
			}
		}

		@Override
		public void onReady() {
			try (Binding binding = this.call.bind()) {
				super.onReady();
			}
		}

		@Override
		public void onCancel() {
			// The gRPC context's listener has normally cancelled already, while the handler ran;
			// this is for a call cancelled before that listener was added.
			this.call.lost();
			try (Binding binding = this.call.bind()) {
				super.onCancel();
			}
			finally {
				this.call.complete();
			}
		}

		@Override
		public void onComplete() {
			try (Binding binding = this.call.bind()) {
				super.onComplete();
			}
			finally {
				this.call.complete();
			}
		}

	}

}
