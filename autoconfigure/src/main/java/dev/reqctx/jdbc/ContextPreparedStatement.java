package dev.reqctx.jdbc;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * A {@link PreparedStatement} that runs each execution under the calling thread's context,
 * through its {@link ExecutionGuard}, showing the SQL it was prepared with. Binding parameters
 * is plain delegation: only executions do work.
 * @param <T> the type of the driver's statement
 */
class ContextPreparedStatement<T extends PreparedStatement> extends DelegatingPreparedStatement<T> {

	ContextPreparedStatement(ContextConnection connection, T target, String description) {
		super(connection, target, description);
	}

	@Override
	public ResultSet executeQuery() throws SQLException {
		return this.guard.execute(this.target, null, (s, q) -> s.executeQuery());
	}

	@Override
	public int executeUpdate() throws SQLException {
		return this.guard.execute(this.target, null, (s, q) -> s.executeUpdate());
	}

	@Override
	public long executeLargeUpdate() throws SQLException {
		return this.guard.execute(this.target, null, (s, q) -> s.executeLargeUpdate());
	}

	@Override
	public boolean execute() throws SQLException {
		return this.guard.execute(this.target, null, (s, q) -> s.execute());
	}

}
