package dev.reqctx.jdbc;

import java.sql.CallableStatement;

/**
 * A {@link CallableStatement} that runs each execution under the calling thread's context.
 * Callable statements add no executions of their own: all the work is inherited.
 */
final class ContextCallableStatement extends DelegatingCallableStatement {

	ContextCallableStatement(ContextConnection connection, CallableStatement target, String description) {
		super(connection, target, description);
	}

}
