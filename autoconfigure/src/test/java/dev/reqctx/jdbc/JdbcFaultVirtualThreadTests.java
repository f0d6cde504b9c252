package dev.reqctx.jdbc;

import java.util.concurrent.ThreadFactory;

import org.junit.jupiter.api.Tag;

/**
 * {@link JdbcFaultScenarios} on virtual threads (JDK 21+, reached through reflection since the
 * build targets 17; run in the JDK 25 Surefire execution, tag {@code jdk21}).
 */
@Tag("jdk21")
class JdbcFaultVirtualThreadTests extends JdbcFaultScenarios {

	@Override
	ThreadFactory threads() {
		try {
			Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
			return (ThreadFactory) Class.forName("java.lang.Thread$Builder").getMethod("factory").invoke(builder);
		}
		catch (ReflectiveOperationException ex) {
			throw new IllegalStateException("Virtual threads need JDK 21+", ex);
		}
	}

}
