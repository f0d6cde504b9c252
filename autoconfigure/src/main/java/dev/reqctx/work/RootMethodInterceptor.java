package dev.reqctx.work;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.Scope;
import dev.reqctx.UnitOfWork;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;

import org.springframework.aop.support.AopUtils;
import org.springframework.util.ClassUtils;

/**
 * Runs each invocation of a method that a framework calls for a unit of work (a
 * {@code @Scheduled} method, a message listener) as a root of its own: a {@link UnitOfWork} of
 * the given kind named {@code SimpleClassName.method}, with the timeout {@link WorkTimeouts}
 * gives that name. The work's SQL, outbound HTTP and tasks are bounded by it and cancelled with
 * it; it shows in the live tree, where an operator can cancel it.
 *
 * <p>For a job, a run cancelled by its deadline or an operator ends with one WARN line, not the
 * scheduler's ERROR and stack: it was stopped on purpose, and the next run comes anyway. For a
 * message the failure propagates, so that the listener container's error handling (retry,
 * dead letter, redelivery) keeps the message. A method called from other work (a request that
 * runs a job by hand) already has a context and runs in it, not in a root of its own.
 */
public final class RootMethodInterceptor implements MethodInterceptor {

	private static final Logger LOGGER = System.getLogger(RootMethodInterceptor.class.getName());

	private final ContextKind kind;

	private final String what;

	private final boolean swallowCancellation;

	private final Supplier<ContextRuntime> runtime;

	private final Supplier<WorkTimeouts> timeouts;

	private final ConcurrentMap<Method, String> names = new ConcurrentHashMap<>();

	private RootMethodInterceptor(ContextKind kind, String what, boolean swallowCancellation,
			Supplier<ContextRuntime> runtime, Supplier<WorkTimeouts> timeouts) {
		this.kind = kind;
		this.what = what;
		this.swallowCancellation = swallowCancellation;
		this.runtime = memoize(Objects.requireNonNull(runtime, "runtime must not be null"));
		this.timeouts = memoize(Objects.requireNonNull(timeouts, "timeouts must not be null"));
	}

	/**
	 * Returns an interceptor for scheduled jobs: each run is a {@link ContextKind#JOB}, and a
	 * run cancelled by its context ends with a WARN line instead of an exception. The
	 * collaborators are looked up at the first run, so that an advisor, which the container
	 * creates early, does not create them early too.
	 * @param runtime supplies the application's runtime
	 * @param timeouts supplies each job's timeout
	 * @return the interceptor
	 */
	public static RootMethodInterceptor forJobs(Supplier<ContextRuntime> runtime, Supplier<WorkTimeouts> timeouts) {
		return new RootMethodInterceptor(ContextKind.JOB, "Scheduled job", true, runtime, timeouts);
	}

	/**
	 * Returns an interceptor for message listeners: each message is a
	 * {@link ContextKind#MESSAGE}, and every failure, a cancellation included, goes to the
	 * listener container.
	 * @param runtime supplies the application's runtime
	 * @param timeouts supplies each listener's timeout
	 * @return the interceptor
	 */
	public static RootMethodInterceptor forMessages(Supplier<ContextRuntime> runtime,
			Supplier<WorkTimeouts> timeouts) {
		return new RootMethodInterceptor(ContextKind.MESSAGE, "Listener", false, runtime, timeouts);
	}

	private static <T> Supplier<T> memoize(Supplier<T> supplier) {
		return new Supplier<>() {

			private volatile T value;

			@Override
			public T get() {
				T result = this.value;
				if (result == null) {
					result = Objects.requireNonNull(supplier.get());
					this.value = result;
				}
				return result;
			}

		};
	}

	@Override
	public Object invoke(MethodInvocation invocation) throws Throwable {
		if (Scope.isAnyBound()) {
			return invocation.proceed(); // part of other work, not a run of the scheduler's
		}
		String name = nameOf(invocation);
		Duration timeout = this.timeouts.get().timeoutOf(name);
		UnitOfWork.Builder builder = this.runtime.get().work(name).kind(this.kind);
		if (timeout != null) {
			builder.timeout(timeout);
		}
		try (UnitOfWork work = builder.start()) {
			try {
				return invocation.proceed();
			}
			catch (Throwable ex) {
				CancellationCause cause = work.context().cause();
				if (!this.swallowCancellation || cause == null || !isCancellation(ex)) {
					throw ex;
				}
				LOGGER.log(Level.WARNING, this.what + " " + name + " (context " + work.context().id()
						+ ") was cancelled (" + cause + ") after "
						+ TimeUnit.NANOSECONDS.toMillis(work.context().ageNanos()) + " ms"
						+ ((cause == CancellationCause.DEADLINE_EXCEEDED)
								? "; its timeout is " + timeout + " (reqctx.scheduling.timeouts or default-timeout)" : "")
						+ ": " + ex);
				return null;
			}
		}
	}

	private String nameOf(MethodInvocation invocation) {
		return this.names.computeIfAbsent(invocation.getMethod(), (method) -> {
			Object target = invocation.getThis();
			Class<?> type = (target != null) ? ClassUtils.getUserClass(AopUtils.getTargetClass(target))
					: method.getDeclaringClass();
			return type.getSimpleName() + "." + method.getName();
		});
	}

	private static boolean isCancellation(Throwable ex) {
		for (Throwable t = ex; t != null; t = (t.getCause() != t) ? t.getCause() : null) {
			if (t instanceof ContextCancelledException) {
				return true;
			}
		}
		return false;
	}

}
