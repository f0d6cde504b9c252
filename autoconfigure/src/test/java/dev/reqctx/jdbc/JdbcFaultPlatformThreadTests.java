package dev.reqctx.jdbc;

import java.util.concurrent.ThreadFactory;

/**
 * {@link JdbcFaultScenarios} on platform threads, whose blocking socket reads ignore interrupts.
 */
class JdbcFaultPlatformThreadTests extends JdbcFaultScenarios {

	@Override
	ThreadFactory threads() {
		return (task) -> {
			Thread thread = new Thread(task, "fault-request");
			thread.setDaemon(true);
			return thread;
		};
	}

}
