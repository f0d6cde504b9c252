package dev.reqctx.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a test method inside a unit of work with a deadline, as if it were a request: the code
 * it calls sees {@code RequestContext.current()} with that deadline, so its SQL, outbound HTTP
 * and tasks are bounded by it and cancelled at it. The unit belongs to the application's
 * {@link dev.reqctx.ContextRuntime} in a Spring test (it shows in the live tree), else to the
 * global one, and ends when the method returns.
 *
 * <p>A parameter of type {@link dev.reqctx.RequestContext},
 * {@link dev.reqctx.CancellableContext} or {@link dev.reqctx.UnitOfWork} receives the unit, for
 * tests that cancel it themselves:
 *
 * <pre>
 * &#64;Test
 * &#64;WithDeadline(200)
 * void reportStopsAtTheDeadline() {
 *     assertThatExceptionOfType(DeadlineExceededException.class)
 *         .isThrownBy(() -&gt; reports.monthly());
 * }
 * </pre>
 *
 * <p>On a class, it applies to each test method. The method must run on the thread that JUnit
 * invokes it on (not with {@code @Timeout}'s separate thread mode). Requests a test sends to
 * the application (with MockMvc or over HTTP) get contexts of their own, from their budget
 * header or the configured default, not this one.
 */
@Target({ ElementType.TYPE, ElementType.METHOD })
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(DeadlineExtension.class)
public @interface WithDeadline {

	/**
	 * How long the test's work may run.
	 * @return the timeout, positive, in {@link #unit()}
	 */
	long value();

	/**
	 * The unit of {@link #value()}.
	 * @return the time unit, milliseconds by default
	 */
	TimeUnit unit() default TimeUnit.MILLISECONDS;

}
