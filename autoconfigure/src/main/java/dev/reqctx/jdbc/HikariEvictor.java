package dev.reqctx.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;

/**
 * Evicts connections from a HikariCP pool. Only loaded when HikariCP is on the classpath.
 */
final class HikariEvictor implements PoolEvictor {

	private final HikariDataSource pool;

	private HikariEvictor(HikariDataSource pool) {
		this.pool = pool;
	}

	static PoolEvictor forDataSource(DataSource dataSource) {
		try {
			if (dataSource instanceof HikariDataSource hikari) {
				return new HikariEvictor(hikari);
			}
			return dataSource.isWrapperFor(HikariDataSource.class)
					? new HikariEvictor(dataSource.unwrap(HikariDataSource.class)) : null;
		}
		catch (SQLException | RuntimeException ex) {
			return null;
		}
	}

	@Override
	public void evict(Connection pooled) {
		// Hikari marks a connection in use as evicted and closes it when it is returned.
		this.pool.evictConnection(pooled);
	}

}
