package dev.reqctx.task;

import java.util.ArrayDeque;

import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import io.micrometer.context.ThreadLocalAccessor;

/**
 * A Micrometer context-propagation {@link ThreadLocalAccessor} for the current
 * {@link RequestContext}, registered through {@code ServiceLoader}: anything that propagates
 * Micrometer contexts (Spring Boot's {@code spring.task.execution.propagate-context}, Reactor,
 * observations) carries the request context too.
 *
 * <p>Values are bound with {@link RequestContext#attach()}, and each restore closes the matching
 * scope, so the thread ends up exactly as it was.
 */
public final class RequestContextThreadLocalAccessor implements ThreadLocalAccessor<RequestContext> {

	/** The key of this accessor. */
	public static final String KEY = "dev.reqctx.RequestContext";

	private static final ThreadLocal<ArrayDeque<Scope>> SCOPES = ThreadLocal.withInitial(ArrayDeque::new);

	@Override
	public Object key() {
		return KEY;
	}

	@Override
	public RequestContext getValue() {
		RequestContext current = RequestContext.current();
		return (current != RequestContext.root()) ? current : null;
	}

	@Override
	public void setValue(RequestContext value) {
		SCOPES.get().push(value.attach());
	}

	@Override
	public void setValue() {
		SCOPES.get().push(RequestContext.root().attach());
	}

	@Override
	public void restore(RequestContext previousValue) {
		closeLatest();
	}

	@Override
	public void restore() {
		closeLatest();
	}

	private static void closeLatest() {
		ArrayDeque<Scope> scopes = SCOPES.get();
		Scope scope = scopes.poll();
		if (scope != null) {
			scope.close();
		}
		if (scopes.isEmpty()) {
			SCOPES.remove();
		}
	}

}
