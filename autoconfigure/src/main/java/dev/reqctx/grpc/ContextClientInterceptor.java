package dev.reqctx.grpc;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.Operation;
import dev.reqctx.spi.UnboundOperations;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Deadline;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

/**
 * A {@link ClientInterceptor} that runs every outbound gRPC call under the caller's
 * {@link RequestContext}.
 *
 * <p>For a call made while a cancellable context is current it:
 * <ul>
 * <li>fails fast, without creating a call on the channel, if the context is already cancelled:
 * the listener is closed with {@code DEADLINE_EXCEEDED} (the deadline passed) or
 * {@code CANCELLED} (any other cause), {@code UNAVAILABLE} at shutdown;
 * <li>sets the call's deadline to the context's remaining budget, or keeps the deadline already
 * in the {@link CallOptions} when that one is earlier; gRPC sends it to the server as
 * {@code grpc-timeout}, and a reqctx server makes it the deadline of its own context;
 * <li>shows the call in the live tree as a {@code "grpc"} {@link Operation}
 * ({@code authority/package.Service/Method}) until it closes;
 * <li>cancels the call with {@link ClientCall#cancel(String, Throwable)} the moment the context
 * is cancelled (an operator's cancel, the request ending, a parent's deadline): the server sees
 * the stream reset and, if it runs reqctx, cancels its context with {@code CLIENT_GONE};
 * <li>closes the caller's listener, when the call fails because of the context, with a status
 * whose cause is the context's {@link ContextCancelledException} (a
 * {@code DeadlineExceededException} when the deadline passed), so the
 * {@code StatusRuntimeException} a stub throws carries it and the web integration answers
 * {@code 504}/{@code 503} rather than {@code 500};
 * <li>runs the listener's callbacks (the stub's response observer) with the context bound, on
 * whichever thread the channel delivers them.
 * </ul>
 *
 * <p>{@code ClientCall} is not thread-safe, and the cancel comes from another thread (the
 * deadline timer, the actuator): the call this interceptor returns serializes its outbound
 * methods with that cancel, and drops the messages and half-close the application sends after
 * it, as gRPC requires of a cancelled call. Register the interceptor on a channel, or globally
 * with Spring gRPC (the auto-configuration does):
 *
 * <pre>
 * ManagedChannel channel = ManagedChannelBuilder.forTarget("orders:443")
 *         .intercept(new ContextClientInterceptor())
 *         .build();
 * </pre>
 *
 * <p>Instances are immutable and thread-safe. Outside a cancellable context (no request, a
 * {@linkplain RequestContext#detached() detached} context) calls pass through untouched.
 */
public final class ContextClientInterceptor implements ClientInterceptor {

	/** The kind of the operations this interceptor opens, and of the meters it reports. */
	public static final String OPERATION_KIND = "grpc";

	/** How long a closed call waits for its context's cancel to reach its operation, at most. */
	private static final long CANCEL_ACTION_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

	private final ContextObserver observer;

	private final UnboundOperations unbound;

	/**
	 * Creates an interceptor that reports to no observer.
	 */
	public ContextClientInterceptor() {
		this(ContextObserver.NONE, UnboundOperations.NONE);
	}

	private ContextClientInterceptor(ContextObserver observer, UnboundOperations unbound) {
		this.observer = observer;
		this.unbound = unbound;
	}

	/**
	 * Returns a copy that reports calls to the given observer (remaining budget at call start,
	 * cancelled calls by cause, cancel latency).
	 * @param observer the observer
	 * @return the new interceptor
	 */
	public ContextClientInterceptor withObserver(ContextObserver observer) {
		return new ContextClientInterceptor(Objects.requireNonNull(observer, "observer must not be null"), this.unbound);
	}

	/**
	 * Returns a copy that reports calls made with no context while requests are in flight to the
	 * given broken-chain detector.
	 * @param unbound the detector
	 * @return the new interceptor
	 */
	public ContextClientInterceptor withUnboundOperations(UnboundOperations unbound) {
		return new ContextClientInterceptor(this.observer, Objects.requireNonNull(unbound, "unbound must not be null"));
	}

	@Override
	public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(MethodDescriptor<ReqT, RespT> method,
			CallOptions callOptions, Channel next) {
		RequestContext context = RequestContext.current();
		if (!context.isCancellable()) {
			this.unbound.check(OPERATION_KIND);
			return next.newCall(method, callOptions);
		}
		ContextCancelledException cancelled = Contexts.cancellationException(context, null);
		if (cancelled != null) {
			// Nothing is sent: the server never hears of a call that could not be answered in time.
			return new FailedCall<>(GrpcStatuses.of(cancelled));
		}
		long remainingNanos = context.remainingNanos();
		CallOptions options = callOptions;
		if (remainingNanos != Long.MAX_VALUE) {
			Deadline budget = Deadline.after(remainingNanos, TimeUnit.NANOSECONDS);
			Deadline own = callOptions.getDeadline();
			if (own == null || budget.isBefore(own)) {
				options = callOptions.withDeadline(budget);
			}
			this.observer.operationStarted(OPERATION_KIND, remainingNanos);
		}
		String description = next.authority() + "/" + method.getFullMethodName();
		return new ContextClientCall<>(next.newCall(method, options), context, description, this.observer);
	}

	@Override
	public String toString() {
		return "ContextClientInterceptor";
	}

	/** A call refused before it started: its listener is closed with the context's status. */
	private static final class FailedCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {

		private final Status status;

		FailedCall(Status status) {
			this.status = status;
		}

		@Override
		public void start(Listener<RespT> listener, Metadata headers) {
			listener.onClose(this.status, new Metadata());
		}

		@Override
		public void request(int numMessages) {
		}

		@Override
		public void cancel(String message, Throwable cause) {
		}

		@Override
		public void halfClose() {
		}

		@Override
		public void sendMessage(ReqT message) {
		}

	}

	/**
	 * A call under a context: an operation while it runs, cancelled with the context. The
	 * outbound methods hold the call's monitor, so the context's cancel, which comes from another
	 * thread, never runs concurrently with them.
	 */
	private static final class ContextClientCall<ReqT, RespT>
			extends ForwardingClientCall.SimpleForwardingClientCall<ReqT, RespT> {

		/** Marks a call whose operation has ended (closed before or after it was opened). */
		private static final Operation ENDED = Operation.UNTRACKED;

		private final RequestContext context;

		private final String description;

		private final ContextObserver observer;

		private final AtomicReference<Operation> operation = new AtomicReference<>();

		/** Whether the call was cancelled, by the context or the application. Guarded by this. */
		private boolean cancelled;

		ContextClientCall(ClientCall<ReqT, RespT> delegate, RequestContext context, String description,
				ContextObserver observer) {
			super(delegate);
			this.context = context;
			this.description = description;
			this.observer = observer;
		}

		@Override
		public void start(Listener<RespT> listener, Metadata headers) {
			synchronized (this) {
				super.start(new ContextListener(listener), headers);
			}
			// Outside the monitor: a context cancelled since the check runs the cancel at once.
			Operation op = Contexts.startOperation(this.context, OPERATION_KIND, this.description, this::cancelBy);
			if (!this.operation.compareAndSet(null, op)) {
				op.remove(); // the call closed before its operation was open
			}
		}

		private void cancelBy(CancellationCause cause) {
			synchronized (this) {
				if (this.cancelled) {
					return;
				}
				this.cancelled = true;
				ContextCancelledException reason = Contexts.cancellationException(this.context, null);
				super.cancel("reqctx context " + this.context.id() + " cancelled (" + cause + ")", reason);
			}
		}

		@Override
		public void cancel(String message, Throwable cause) {
			synchronized (this) {
				if (this.cancelled) {
					return;
				}
				this.cancelled = true;
				super.cancel(message, cause);
			}
		}

		@Override
		public void sendMessage(ReqT message) {
			synchronized (this) {
				if (!this.cancelled) {
					super.sendMessage(message);
				}
			}
		}

		@Override
		public void halfClose() {
			synchronized (this) {
				if (!this.cancelled) {
					super.halfClose();
				}
			}
		}

		@Override
		public void setMessageCompression(boolean enabled) {
			synchronized (this) {
				super.setMessageCompression(enabled);
			}
		}

		/** Ends the operation and returns the status the caller sees. */
		private Status closed(Status status) {
			Operation op = this.operation.getAndSet(ENDED);
			if (op != null && op != ENDED) {
				awaitCancelAction(op);
				op.remove();
			}
			if (status.isOk()) {
				return status;
			}
			ContextCancelledException cancelled = ContextCancelledException.findIn(status.getCause());
			if (cancelled == null) {
				// A failure after the context's cancel (gRPC's own deadline firing a moment before
				// the context's timer) is the cancellation's doing too.
				cancelled = Contexts.cancellationException(this.context, status.asRuntimeException());
			}
			if (cancelled == null) {
				return status;
			}
			if (op != null && op != ENDED && op.wasCancelled()) {
				this.observer.operationCancelled(OPERATION_KIND, cancelled.getCancellationCause(),
						System.nanoTime() - op.cancelSignalNanos());
			}
			return GrpcStatuses.of(cancelled);
		}

		/**
		 * When the call closed as its context was being cancelled (gRPC's own deadline fires at
		 * the context's), waits briefly for the cancel to reach this call's operation, which the
		 * cancelling thread is about to do: removing the operation first would leave the cancel
		 * record with a step that never returns, reported as a straggler, and the cancel out of
		 * the meters.
		 */
		private void awaitCancelAction(Operation op) {
			if (!this.context.isCancelled() || op.wasCancelled()) {
				return;
			}
			long giveUpAt = System.nanoTime() + CANCEL_ACTION_WAIT_NANOS;
			while (!op.wasCancelled() && System.nanoTime() - giveUpAt < 0) {
				Thread.onSpinWait();
			}
		}

		/** Delivers the call's events with the caller's context bound. */
		private final class ContextListener extends ForwardingClientCallListener.SimpleForwardingClientCallListener<RespT> {

			ContextListener(Listener<RespT> delegate) {
				super(delegate);
			}

			@Override
			public void onHeaders(Metadata headers) {
				try (Scope scope = ContextClientCall.this.context.attach()) {
					super.onHeaders(headers);
				}
			}

			@Override
			public void onMessage(RespT message) {
				try (Scope scope = ContextClientCall.this.context.attach()) {
					super.onMessage(message);
				}
			}

			@Override
			public void onReady() {
				try (Scope scope = ContextClientCall.this.context.attach()) {
					super.onReady();
				}
			}

			@Override
			public void onClose(Status status, Metadata trailers) {
				Status seen = closed(status);
				try (Scope scope = ContextClientCall.this.context.attach()) {
					super.onClose(seen, trailers);
				}
			}

		}

	}

}
