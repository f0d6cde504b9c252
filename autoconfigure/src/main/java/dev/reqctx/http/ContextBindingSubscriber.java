package dev.reqctx.http;

import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.util.context.Context;

/**
 * A subscriber that binds a {@link RequestContext} to the thread for the duration of each signal
 * it passes on, and for no longer: the operators that run inside an exchange's signals
 * ({@code map}, {@code doOnNext}, a codec, an {@code exchangeToMono} function), on Reactor
 * Netty's threads or the cancelling thread, see {@link RequestContext#current()} without
 * Reactor's automatic context propagation, and the thread is as it was once the signal returns.
 *
 * <p>It hands its own subscription downstream rather than the upstream's, so that no downstream
 * operator fuses with the upstream and takes values by {@code poll()}, around the binding.
 */
final class ContextBindingSubscriber<T> implements CoreSubscriber<T>, Subscription {

	private final CoreSubscriber<? super T> actual;

	private final RequestContext context;

	private Subscription upstream;

	ContextBindingSubscriber(CoreSubscriber<? super T> actual, RequestContext context) {
		this.actual = actual;
		this.context = context;
	}

	@Override
	public Context currentContext() {
		return this.actual.currentContext();
	}

	@Override
	public void onSubscribe(Subscription subscription) {
		this.upstream = subscription;
		this.actual.onSubscribe(this);
	}

	@Override
	public void onNext(T value) {
		try (Scope scope = this.context.attach()) {
			this.actual.onNext(value);
		}
	}

	@Override
	public void onError(Throwable failure) {
		try (Scope scope = this.context.attach()) {
			this.actual.onError(failure);
		}
	}

	@Override
	public void onComplete() {
		try (Scope scope = this.context.attach()) {
			this.actual.onComplete();
		}
	}

	@Override
	public void request(long n) {
		this.upstream.request(n);
	}

	@Override
	public void cancel() {
		this.upstream.cancel();
	}

}
