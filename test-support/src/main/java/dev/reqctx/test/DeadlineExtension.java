package dev.reqctx.test;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Optional;

import dev.reqctx.CancellableContext;
import dev.reqctx.RequestContext;
import dev.reqctx.UnitOfWork;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;

/**
 * The extension behind {@link WithDeadline}: starts a unit of work with the annotation's
 * timeout around each test method, and hands it to parameters that ask for it.
 */
public class DeadlineExtension implements InvocationInterceptor, ParameterResolver {

	private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace
		.create(DeadlineExtension.class);

	@Override
	public void interceptTestMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> invocationContext,
			ExtensionContext extensionContext) throws Throwable {
		intercept(invocation, extensionContext);
	}

	@Override
	public void interceptTestTemplateMethod(Invocation<Void> invocation,
			ReflectiveInvocationContext<Method> invocationContext, ExtensionContext extensionContext) throws Throwable {
		intercept(invocation, extensionContext);
	}

	private void intercept(Invocation<Void> invocation, ExtensionContext context) throws Throwable {
		Optional<WithDeadline> annotation = findAnnotation(context);
		if (annotation.isEmpty()) {
			invocation.proceed();
			return;
		}
		try (UnitOfWork work = unitOf(context, annotation.get())) {
			invocation.proceed();
		}
	}

	@Override
	public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
		Class<?> type = parameterContext.getParameter().getType();
		return (type == RequestContext.class || type == CancellableContext.class || type == UnitOfWork.class)
				&& parameterContext.getDeclaringExecutable() instanceof Method
				&& findAnnotation(extensionContext).isPresent();
	}

	@Override
	public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
		UnitOfWork work = unitOf(extensionContext, findAnnotation(extensionContext).orElseThrow());
		Class<?> type = parameterContext.getParameter().getType();
		if (type == UnitOfWork.class) {
			return work;
		}
		return (type == CancellableContext.class) ? work.context() : RequestContext.current();
	}

	/**
	 * Returns the test's unit of work, starting it (bound to the calling thread, which is the
	 * test's) the first time: parameters are resolved before the method is intercepted.
	 */
	private static UnitOfWork unitOf(ExtensionContext context, WithDeadline annotation) {
		ExtensionContext.Store store = context.getStore(NAMESPACE);
		UnitOfWork work = store.get(UnitOfWork.class, UnitOfWork.class);
		if (work == null) {
			if (annotation.value() <= 0) {
				throw new ExtensionConfigurationException("@WithDeadline on " + context.getDisplayName()
						+ " needs a positive value, was " + annotation.value() + " " + annotation.unit());
			}
			Duration timeout = Duration.ofNanos(annotation.unit().toNanos(annotation.value()));
			work = TestRuntimes.primary(context)
				.work("test " + context.getRequiredTestClass().getSimpleName() + "." + context.getDisplayName())
				.timeout(timeout)
				.start();
			// Closed by JUnit with the store, should the method never run (a failed parameter).
			store.put(UnitOfWork.class, work);
		}
		return work;
	}

	private static Optional<WithDeadline> findAnnotation(ExtensionContext context) {
		return TestAnnotations.find(context, WithDeadline.class);
	}

}
