package dev.reqctx.jdbc;

import java.util.concurrent.ThreadFactory;

import dev.reqctx.testsupport.OnVirtualThreads;
import org.junit.jupiter.api.Tag;

/**
 * {@link JdbcFaultScenarios} on virtual threads (JDK 21+, reached through reflection since the
 * build targets 17; run in the JDK 25 Surefire execution, tag {@code jdk21}).
 */
@Tag("jdk21")
class JdbcFaultVirtualThreadTests extends JdbcFaultScenarios {

	@Override
	ThreadFactory threads() {
		return OnVirtualThreads.factory();
	}

}
