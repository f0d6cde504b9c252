package dev.reqctx.autoconfigure;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;
import org.springframework.core.env.PropertySource;

/**
 * Puts reqctx's request id into Spring Boot's default log patterns: a default for
 * {@code logging.pattern.correlation} ({@value #PATTERN}), which Boot's console and file
 * patterns include, so that the log lines of the application and of its libraries (Hibernate's
 * warning at a cancel, for one) carry the request they belong to.
 *
 * <p>Only a default: it yields to a {@code logging.pattern.correlation} the application sets, to
 * a tracer that provides the correlation (Micrometer Tracing sets
 * {@code logging.expect-correlation-id}, and Boot then shows trace and span ids), and to
 * {@code reqctx.enabled=false} or {@code reqctx.logging.enabled=false}. It is decided when the
 * property is read, so the order of the post-processors does not matter.
 */
class ReqctxLogCorrelationEnvironmentPostProcessor implements EnvironmentPostProcessor {

	/** The request id as the logging integration puts it in the MDC. */
	static final String PATTERN = "[%X{reqctx.requestId:-}] ";

	private static final String PROPERTY = "logging.pattern.correlation";

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		environment.getPropertySources().addLast(new CorrelationDefault(environment));
	}

	private static final class CorrelationDefault extends PropertySource<Object> {

		/**
		 * Whether a source consulted after this one (the application's default properties, which
		 * Boot keeps last) sets the pattern: a default of the application's beats reqctx's.
		 */
		private boolean setAfterThis() {
			boolean after = false;
			for (PropertySource<?> source : this.environment.getPropertySources()) {
				if (source == this) {
					after = true;
				}
				else if (after && source.containsProperty(PROPERTY)) {
					return true;
				}
			}
			return false;
		}

		/**
		 * Not the source: Boot's configuration property sources descend into a source that is
		 * an environment, and this one is in that environment (an endless walk).
		 */
		private final ConfigurableEnvironment environment;

		CorrelationDefault(ConfigurableEnvironment environment) {
			super("reqctxLogCorrelation", new Object());
			this.environment = environment;
		}

		@Override
		public @Nullable Object getProperty(String name) {
			if (!PROPERTY.equals(name)) {
				return null;
			}
			if (setAfterThis()) {
				return null;
			}
			Environment environment = this.environment;
			boolean on = environment.getProperty("reqctx.enabled", Boolean.class, true)
					&& environment.getProperty("reqctx.logging.enabled", Boolean.class, true);
			boolean tracerCorrelates = environment.getProperty("logging.expect-correlation-id", Boolean.class, false);
			return (on && !tracerCorrelates) ? PATTERN : null;
		}

	}

}
