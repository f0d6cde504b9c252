package dev.reqctx.test;

import java.lang.annotation.Annotation;
import java.util.Optional;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Finds an annotation of the running test: on its method, else on its class or an enclosing
 * class ({@code @Nested} tests inherit their outer class's).
 */
final class TestAnnotations {

	private TestAnnotations() {
	}

	static <A extends Annotation> Optional<A> find(ExtensionContext context, Class<A> type) {
		Optional<A> onMethod = context.getTestMethod().flatMap((method) -> AnnotationSupport.findAnnotation(method, type));
		if (onMethod.isPresent()) {
			return onMethod;
		}
		for (Class<?> c = context.getTestClass().orElse(null); c != null; c = c.getEnclosingClass()) {
			Optional<A> found = AnnotationSupport.findAnnotation(c, type);
			if (found.isPresent()) {
				return found;
			}
		}
		return Optional.empty();
	}

}
