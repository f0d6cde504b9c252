package dev.reqctx.scheduling;

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
 * Runs each invocation of a scheduled method as a {@link ContextKind#JOB} root: a
 * {@link UnitOfWork} named {@code SimpleClassName.method}, with the timeout
 * {@link JobTimeouts} gives that name. The job's SQL, outbound HTTP and tasks are bounded by it
 * and cancelled with it; it shows in the live tree, where an operator can cancel it.
 *
 * <p>A run cancelled by its deadline or an operator ends with one WARN line, not the scheduler's
 * ERROR and stack: it was stopped on purpose. Any other failure propagates to the scheduler's
 * error handler as before. A scheduled method called from other work (a request that triggers
 * the job by hand) already has a context and runs in it, not in a root of its own.
 */
public final class ScheduledJobInterceptor implements MethodInterceptor {

	private static final Logger LOGGER = System.getLogger(ScheduledJobInterceptor.class.getName());

	private final Supplier<ContextRuntime> runtime;

	private final Supplier<JobTimeouts> timeouts;

	private final ConcurrentMap<Method, String> names = new ConcurrentHashMap<>();

	/**
	 * Creates the interceptor.
	 * @param runtime the application's runtime, which the jobs' contexts belong to
	 * @param timeouts each job's timeout
	 */
	public ScheduledJobInterceptor(ContextRuntime runtime, JobTimeouts timeouts) {
		this(constant(runtime, "runtime"), constant(timeouts, "timeouts"));
	}

	/**
	 * Creates an interceptor that looks up its collaborators at the first job's run, so that an
	 * advisor, which the container creates early, does not create them early too.
	 * @param runtime supplies the application's runtime
	 * @param timeouts supplies each job's timeout
	 */
	public ScheduledJobInterceptor(Supplier<ContextRuntime> runtime, Supplier<JobTimeouts> timeouts) {
		this.runtime = memoize(Objects.requireNonNull(runtime, "runtime must not be null"));
		this.timeouts = memoize(Objects.requireNonNull(timeouts, "timeouts must not be null"));
	}

	private static <T> Supplier<T> constant(T value, String name) {
		Objects.requireNonNull(value, name + " must not be null");
		return () -> value;
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
		String job = nameOf(invocation);
		Duration timeout = this.timeouts.get().timeoutOf(job);
		UnitOfWork.Builder builder = this.runtime.get().work(job).kind(ContextKind.JOB);
		if (timeout != null) {
			builder.timeout(timeout);
		}
		try (UnitOfWork work = builder.start()) {
			try {
				return invocation.proceed();
			}
			catch (Throwable ex) {
				CancellationCause cause = work.context().cause();
				if (cause == null || !isCancellation(ex)) {
					throw ex;
				}
				LOGGER.log(Level.WARNING, "Scheduled job " + job + " (context " + work.context().id()
						+ ") was cancelled (" + cause + ") after "
						+ TimeUnit.NANOSECONDS.toMillis(work.context().ageNanos()) + " ms"
						+ ((cause == CancellationCause.DEADLINE_EXCEEDED)
								? "; its timeout is " + timeout + " (reqctx.scheduling.timeouts / default-timeout)" : "")
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
