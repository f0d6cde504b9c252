package dev.reqctx.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Fails a test that leaves reqctx work behind, the way Go's {@code goleak} fails a test that
 * leaves goroutines running. After each test it checks, in the application's
 * {@link dev.reqctx.ContextRuntime} (in a Spring test) and in the global one:
 * <ul>
 * <li>that no context is still bound to the test's thread (an {@code attach()} whose scope was
 * never closed);
 * <li>that every request, job or other unit of work that became live during the test has ended,
 * waiting up to {@link #graceMillis()} for work that is finishing (a request whose response the
 * test has already read);
 * <li>that no task outlived the request or unit of work that forked it (an orphan);
 * <li>that reqctx reported no misuse (a scope closed out of order, a pooled thread handed back
 * with a context bound).
 * </ul>
 * A failure lists each leak with what to change. Leftover contexts are then cancelled and the
 * thread's binding cleared, so the next test starts clean.
 *
 * <pre>
 * &#64;SpringBootTest
 * &#64;NoContextLeaks
 * class OrderServiceTests { ... }
 * </pre>
 *
 * <p>The check compares with what was live when the test started, so it does not suit tests
 * that run in parallel against the same application.
 */
@Target({ ElementType.TYPE, ElementType.METHOD })
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(ContextLeakExtension.class)
public @interface NoContextLeaks {

	/**
	 * How long to wait, at most, for units of work that became live during the test to end.
	 * @return the grace period in milliseconds
	 */
	long graceMillis() default 2000;

}
