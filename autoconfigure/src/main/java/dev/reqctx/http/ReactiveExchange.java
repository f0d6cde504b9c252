package dev.reqctx.http;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.Registration;
import dev.reqctx.RequestContext;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.Operation;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.ExchangeFunction;

/**
 * One {@code WebClient} exchange under a cancellable context, from its subscription until its
 * response body ends: the cancel action of the exchange's {@code "http"} operation, and the
 * operators that turn that cancel into a cancelled subscription and an error signal.
 *
 * <p>Nothing blocks and nothing is interrupted: a cancel aborts the current {@link Stage} (the
 * exchange while it waits for the response, then the body while it is read), which cancels the
 * upstream subscription, how Reactor Netty is told to close the connection, and signals the
 * context's exception downstream instead. Every path that ends the exchange (response body
 * read, failed or cancelled; exchange failed or cancelled before the response) removes the
 * operation, once. The caller's context is bound to the thread around each signal the caller's
 * operators get ({@link ContextBindingSubscriber}).
 */
final class ReactiveExchange implements Consumer<CancellationCause> {

	/** Waiting for the response (connecting, sending, waiting for the status line). */
	private static final int CALLING = 0;

	/** The response was handed downstream; nobody has subscribed to its body yet. */
	private static final int RESPONDED = 1;

	/** Its body is being read. */
	private static final int READING = 2;

	/** Over: the operation is (being) removed. */
	private static final int DONE = 3;

	private final RequestContext context;

	private final ContextPropagatingInterceptor settings;

	private final String description;

	private final boolean hasDeadline;

	/** The stage a cancel aborts: the exchange until the response, then its body. */
	private volatile Stage<?> stage;

	/** What a cancel aborted the exchange with, once it did. */
	private volatile CancellationException abortedBy;

	private final AtomicInteger state = new AtomicInteger(CALLING);

	private final AtomicBoolean ended = new AtomicBoolean();

	/** Set right after the operation starts; a cancel action that runs inside the start sees null. */
	private volatile Operation operation;

	ReactiveExchange(RequestContext context, ContextPropagatingInterceptor settings, String description,
			boolean hasDeadline) {
		this.context = context;
		this.settings = settings;
		this.description = description;
		this.hasDeadline = hasDeadline;
	}

	Mono<ClientResponse> run(ClientRequest request, ExchangeFunction next) {
		Operation operation = Contexts.startOperation(this.context, ContextPropagatingInterceptor.OPERATION_KIND,
				this.description, this);
		this.operation = operation;
		if (operation.wasCancelled()) {
			// Cancelled since the caller checked: still nothing sent, no connection taken.
			return Mono.error(failed(aborted()));
		}
		return Mono.from(abortable(next.exchange(request), false))
			.flatMap(this::respond)
			// Cancelled by the caller while a downstream 504 waits for the caller's deadline.
			.doOnCancel(() -> {
				if (this.state.compareAndSet(CALLING, DONE)) {
					end();
				}
			});
	}

	/** Runs on the cancelling thread, at most once (the operation guarantees it). */
	@Override
	public void accept(CancellationCause cause) {
		CancellationException aborted = aborted();
		this.abortedBy = aborted;
		Stage<?> stage = this.stage;
		if (stage != null) {
			stage.abort(aborted);
		}
		// A response whose body nobody has asked for holds nothing of ours: the body, if it is
		// read later, fails at once.
		if (this.state.compareAndSet(RESPONDED, DONE)) {
			end();
		}
	}

	private CancellationException aborted() {
		return new CancellationException(this.description + ": exchange cancelled by its context");
	}

	private Mono<ClientResponse> respond(ClientResponse response) {
		if (this.hasDeadline && response.statusCode().value() == 504) {
			long left = this.context.remainingNanos();
			if (this.settings.isOwnDeadlineSoon(left)) {
				return awaitOwnDeadline(response, left);
			}
		}
		return Mono.just(handOver(response));
	}

	private ClientResponse handOver(ClientResponse response) {
		ClientResponse guarded = response.mutate().body(this::guard).build();
		if (this.state.compareAndSet(CALLING, RESPONDED) && this.operation.wasCancelled()
				&& this.state.compareAndSet(RESPONDED, DONE)) {
			// The cancel came between the response and the hand-over, and found nothing to end.
			end();
		}
		return guarded;
	}

	/**
	 * A downstream {@code 504} that came from the budget this call sent: waits (without
	 * blocking) for the caller's own deadline, which passes within the safety margin, so that
	 * every hop of a chain answers {@code 504}; as the interceptor does.
	 */
	private Mono<ClientResponse> awaitOwnDeadline(ClientResponse response, long left) {
		Mono<Void> cancelled = Mono.create((sink) -> {
			Registration registration = this.context.onCancel(sink::success);
			sink.onDispose(registration::remove);
		});
		return cancelled.timeout(Duration.ofNanos(ContextPropagatingInterceptor.ownDeadlineWaitNanos(left)), Mono.empty())
			.then(Mono.defer(() -> {
				if (!this.context.isCancelled()) {
					return Mono.just(handOver(response));
				}
				Throwable failure = failed(ContextPropagatingInterceptor.downstreamTimedOut(this.description));
				return response.releaseBody().onErrorResume((ex) -> Mono.empty()).then(Mono.error(failure));
			}));
	}

	/** The response body as the caller reads it: cut off, with the context's exception, by a cancel. */
	private Flux<DataBuffer> guard(Flux<DataBuffer> body) {
		return Flux.defer(() -> {
			if (!this.state.compareAndSet(RESPONDED, READING) && this.state.get() == DONE) {
				// Cancelled before anyone read it: subscribe only to cancel at once, which makes
				// Reactor Netty drop the connection, and fail as a cancelled read does.
				return body.take(0).thenMany(Flux.error(() -> failed(aborted())));
			}
			return Flux.from(abortable(body, true));
		});
	}

	/**
	 * Returns the given stage of the exchange (the exchange itself, or its body) made
	 * cancellable by the context, with the context bound around the signals it passes on.
	 */
	private <T> Publisher<T> abortable(Publisher<T> publisher, boolean body) {
		return Operators.<T, T>lift((scannable, subscriber) -> new Stage<T>(
				Operators.serialize(new ContextBindingSubscriber<>(subscriber, this.context)), body))
			.apply(publisher);
	}

	private void done() {
		this.state.set(DONE);
		end();
	}

	/**
	 * Returns what the exchange fails with: the context's exception, with the failure as its
	 * cause, if the context is cancelled (also when a deadline passed that the timer has not
	 * reported yet), else the failure itself. Ends the exchange.
	 */
	private Throwable failed(Throwable failure) {
		this.state.set(DONE);
		ContextCancelledException cancelled = (failure instanceof ContextCancelledException) ? null
				: this.settings.cancelledBy(this.context, this.operation, failure);
		end();
		return (cancelled != null) ? cancelled : failure;
	}

	private void end() {
		if (this.ended.compareAndSet(false, true)) {
			this.operation.remove();
		}
	}

	/**
	 * One stage of the exchange as the caller's subscriber sees it: upstream signals pass
	 * through, translated, until a cancel aborts it, which cancels the upstream subscription
	 * (Reactor Netty then closes the connection) and signals the context's exception instead.
	 * Signals reach the caller serialized, since the abort comes from the cancelling thread.
	 */
	private final class Stage<T> implements CoreSubscriber<T>, Subscription {

		private final CoreSubscriber<? super T> downstream;

		private final boolean body;

		private final AtomicBoolean terminated = new AtomicBoolean();

		private volatile Subscription upstream;

		Stage(CoreSubscriber<? super T> downstream, boolean body) {
			this.downstream = downstream;
			this.body = body;
		}

		@Override
		public Context currentContext() {
			return this.downstream.currentContext();
		}

		@Override
		public void onSubscribe(Subscription subscription) {
			this.upstream = subscription;
			this.downstream.onSubscribe(this);
			ReactiveExchange.this.stage = this;
			// Published before it reads abortedBy, as the cancel writes abortedBy before it
			// reads the stage: one of the two sees the other.
			CancellationException aborted = ReactiveExchange.this.abortedBy;
			if (aborted != null) {
				abort(aborted);
			}
		}

		void abort(CancellationException aborted) {
			if (this.terminated.compareAndSet(false, true)) {
				this.upstream.cancel();
				this.downstream.onError(failed(aborted));
			}
		}

		@Override
		public void onNext(T value) {
			if (this.body) {
				if (!this.terminated.get()) {
					this.downstream.onNext(value);
				}
				else {
					discard(value);
				}
			}
			else if (this.terminated.compareAndSet(false, true)) {
				// The response ends this stage: a cancel from now on is the body's, and must not
				// follow the response with an error the caller would drop.
				this.downstream.onNext(value);
				this.downstream.onComplete();
			}
			else {
				discard(value);
			}
		}

		/**
		 * Frees what arrives after the abort: a pooled buffer of the body, or a response that
		 * won the race with the cancel, whose connection is dropped by cancelling its body.
		 */
		private void discard(T value) {
			if (value instanceof DataBuffer buffer) {
				DataBufferUtils.release(buffer);
			}
			else if (value instanceof ClientResponse response) {
				response.bodyToFlux(DataBuffer.class).take(0).subscribe();
			}
			else {
				Operators.onDiscard(value, currentContext());
			}
		}

		@Override
		public void onError(Throwable failure) {
			if (this.terminated.compareAndSet(false, true)) {
				this.downstream.onError(failed(failure));
			}
		}

		@Override
		public void onComplete() {
			if (this.terminated.compareAndSet(false, true)) {
				if (this.body) {
					done();
				}
				this.downstream.onComplete();
			}
		}

		@Override
		public void request(long n) {
			this.upstream.request(n);
		}

		@Override
		public void cancel() {
			this.upstream.cancel();
			if (this.terminated.compareAndSet(false, true)) {
				// A cancel from downstream (its own timeout, a dispose) ends the exchange; one
				// that comes after the response was handed over leaves it to the body.
				if (this.body) {
					done();
				}
				else if (ReactiveExchange.this.state.compareAndSet(CALLING, DONE)) {
					end();
				}
			}
		}

	}

}
