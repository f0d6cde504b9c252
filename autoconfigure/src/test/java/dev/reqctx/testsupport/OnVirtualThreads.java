package dev.reqctx.testsupport;

import java.lang.reflect.Method;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;

/**
 * Runs each test method (plain, parameterized or repeated) on a virtual thread of its own, so
 * that a test class written for platform threads checks virtual threads too. Needs JDK 21+,
 * reached through reflection because the build targets 17; use it on classes tagged
 * {@code jdk21}, which run in the JDK 25 Surefire execution.
 */
public final class OnVirtualThreads implements InvocationInterceptor {

	/**
	 * Returns a factory of virtual threads.
	 * @return the factory
	 * @throws IllegalStateException on a JDK without virtual threads
	 */
	public static ThreadFactory factory() {
		try {
			Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
			return (ThreadFactory) Class.forName("java.lang.Thread$Builder").getMethod("factory").invoke(builder);
		}
		catch (ReflectiveOperationException ex) {
			throw new IllegalStateException("Virtual threads need JDK 21+", ex);
		}
	}

	@Override
	public void interceptTestMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> invocationContext,
			ExtensionContext extensionContext) throws Throwable {
		onVirtualThread(invocation);
	}

	@Override
	public void interceptTestTemplateMethod(Invocation<Void> invocation,
			ReflectiveInvocationContext<Method> invocationContext, ExtensionContext extensionContext) throws Throwable {
		onVirtualThread(invocation);
	}

	private static void onVirtualThread(Invocation<Void> invocation) throws Throwable {
		CompletableFuture<Void> done = new CompletableFuture<>();
		Thread thread = factory().newThread(() -> {
			try {
				invocation.proceed();
				done.complete(null);
			}
			catch (Throwable ex) {
				done.completeExceptionally(ex);
			}
		});
		thread.start();
		try {
			done.get();
		}
		catch (ExecutionException ex) {
			throw ex.getCause();
		}
		catch (InterruptedException ex) {
			// The test timed out (its timeout interrupts this thread): stop the test thread too.
			thread.interrupt();
			throw ex;
		}
	}

}
