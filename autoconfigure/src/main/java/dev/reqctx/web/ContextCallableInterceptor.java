package dev.reqctx.web;

import java.util.concurrent.Callable;

import dev.reqctx.CancellableContext;
import dev.reqctx.Scope;

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

	@Override
	public <T> void preProcess(NativeWebRequest request, Callable<T> task) {
		Object ctx = request.getAttribute(RequestContextFilter.CONTEXT_ATTRIBUTE, RequestAttributes.SCOPE_REQUEST);
		if (ctx instanceof CancellableContext context) {
			context.runningOn(Thread.currentThread());
			request.setAttribute(SCOPE_ATTRIBUTE, context.attach(), RequestAttributes.SCOPE_REQUEST);
		}
	}

	@Override
	public <T> void postProcess(NativeWebRequest request, Callable<T> task, Object concurrentResult) {
		Object scope = request.getAttribute(SCOPE_ATTRIBUTE, RequestAttributes.SCOPE_REQUEST);
		if (scope instanceof Scope s) {
			request.removeAttribute(SCOPE_ATTRIBUTE, RequestAttributes.SCOPE_REQUEST);
			if (s.context() instanceof CancellableContext context) {
				context.runningOn(null);
			}
			s.close();
		}
	}

}
