package dev.reqctx.test;

import java.util.ArrayList;
import java.util.List;

import dev.reqctx.ContextRuntime;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

import org.springframework.context.ApplicationContext;
import org.springframework.test.context.junit.jupiter.SpringExtension;

/**
 * Finds the {@link ContextRuntime runtimes} a test's work belongs to: the application's, in a
 * Spring test whose application context has one, and the global one.
 */
final class TestRuntimes {

	private static final boolean SPRING_TEST_PRESENT = isPresent(
			"org.springframework.test.context.junit.jupiter.SpringExtension");

	private TestRuntimes() {
	}

	/**
	 * Returns the runtime a test's own units of work should belong to: the application's in a
	 * Spring test, else the global one.
	 */
	static ContextRuntime primary(ExtensionContext context) {
		ContextRuntime application = SPRING_TEST_PRESENT ? Spring.runtime(context) : null;
		return (application != null) ? application : ContextRuntime.global();
	}

	/** Returns every runtime to check after a test: the application's (if any) and the global one. */
	static List<ContextRuntime> all(ExtensionContext context) {
		List<ContextRuntime> runtimes = new ArrayList<>(2);
		ContextRuntime application = SPRING_TEST_PRESENT ? Spring.runtime(context) : null;
		if (application != null) {
			runtimes.add(application);
		}
		runtimes.add(ContextRuntime.global());
		return runtimes;
	}

	private static boolean isPresent(String className) {
		try {
			Class.forName(className, false, TestRuntimes.class.getClassLoader());
			return true;
		}
		catch (ClassNotFoundException | LinkageError ex) {
			return false;
		}
	}

	/** Kept apart so that nothing of Spring is loaded when spring-test is absent. */
	private static final class Spring {

		static ContextRuntime runtime(ExtensionContext context) {
			if (!usesSpringExtension(context.getRequiredTestClass())) {
				return null;
			}
			ApplicationContext applicationContext = SpringExtension.getApplicationContext(context);
			return applicationContext.getBeanProvider(ContextRuntime.class).getIfAvailable();
		}

		private static boolean usesSpringExtension(Class<?> testClass) {
			for (Class<?> type = testClass; type != null; type = type.getEnclosingClass()) {
				for (ExtendWith extendWith : AnnotationSupport.findRepeatableAnnotations(type, ExtendWith.class)) {
					for (Class<?> extension : extendWith.value()) {
						if (extension == SpringExtension.class) {
							return true;
						}
					}
				}
			}
			return false;
		}

	}

}
