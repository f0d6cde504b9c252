package dev.reqctx.jdbc;

import java.sql.Connection;

/**
 * Removes a connection from its pool, so that a connection aborted after a lost cancel is never
 * handed to the next borrower.
 */
interface PoolEvictor {

	/** For pools reqctx does not know: they find the aborted connection broken on their own. */
	PoolEvictor NONE = (connection) -> {
	};

	/**
	 * Evicts the connection.
	 * @param pooled the connection as the pool handed it out
	 */
	void evict(Connection pooled);

}
