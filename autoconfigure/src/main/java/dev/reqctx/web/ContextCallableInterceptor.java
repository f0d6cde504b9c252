package dev.reqctx.web;

import java.util.Objects;
import java.util.concurrent.Callable;

import dev.reqctx.CancellableContext;
import dev.reqctx.Scope;
import dev.reqctx.spi.Contexts;
import dev.reqctx.spi.ThreadContextBinder;

import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.async.CallableProcessingInterceptor;

/**
 * Runs a Spring MVC {@code Callable} handler result in its request's context: binds the context
 * on the async executor's thread before the callable runs, and unbinds it afterwards, whatever
 * executor Spring MVC is configured with.
 */
public final class ContextCallableInterceptor implements CallableProcessingInterceptor {

	private static final String SCOPE_ATTRIBUTE = ContextCallableInterceptor.class.getName() + ".SCOPE";

	private static final String RESTORE_ATTRIBUTE = ContextCallableInterceptor.class.getName() + ".RESTORE";

	private final ThreadContextBinder binder;

	/**
	 * Creates an interceptor that binds nothing but the context.
	 */
	public ContextCallableInterceptor() {
		this(ThreadContextBinder.NONE);
	}

	/**
	 * Creates an interceptor.
	 * @param binder mirrors the context into thread-bound state (the MDC) while the callable runs
	 */
	public ContextCallableInterceptor(ThreadContextBinder binder) {
		this.binder = Objects.requireNonNull(binder, "binder must not be null");
	}

	@Override
	public <T> void preProcess(NativeWebRequest request, Callable<T> task) {
		Object ctx = request.getAttribute(RequestContextFilter.CONTEXT_ATTRIBUTE, RequestAttributes.SCOPE_REQUEST);
		if (ctx instanceof CancellableContext context) {
			Contexts.runningOn(context, Thread.currentThread());
			request.setAttribute(SCOPE_ATTRIBUTE, context.attach(), RequestAttributes.SCOPE_REQUEST);
			request.setAttribute(RESTORE_ATTRIBUTE, this.binder.bind(context), RequestAttributes.SCOPE_REQUEST);
		}
	}

	@Override
	public <T> void postProcess(NativeWebRequest request, Callable<T> task, Object concurrentResult) {
		if (request.getAttribute(RESTORE_ATTRIBUTE, RequestAttributes.SCOPE_REQUEST) instanceof ThreadContextBinder.Restore restore) {
			request.removeAttribute(RESTORE_ATTRIBUTE, RequestAttributes.SCOPE_REQUEST);
			restore.close();
		}
		Object scope = request.getAttribute(SCOPE_ATTRIBUTE, RequestAttributes.SCOPE_REQUEST);
		if (scope instanceof Scope s) {
			request.removeAttribute(SCOPE_ATTRIBUTE, RequestAttributes.SCOPE_REQUEST);
			CancellableContext context = Contexts.cancellable(s.context());
			if (context != null) {
				Contexts.runningOn(context, null);
			}
			s.close();
		}
	}

}
