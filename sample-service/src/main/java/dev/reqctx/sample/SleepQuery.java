package dev.reqctx.sample;

import java.sql.DatabaseMetaData;

import javax.sql.DataSource;

import org.springframework.jdbc.support.JdbcUtils;
import org.springframework.stereotype.Component;

/**
 * The statement that sleeps on the database: {@code pg_sleep} on PostgreSQL, the cancellable
 * {@code SLEEP} alias on H2.
 */
@Component
class SleepQuery {

	private final String sql;

	SleepQuery(DataSource dataSource) throws Exception {
		String product = JdbcUtils.extractDatabaseMetaData(dataSource, DatabaseMetaData::getDatabaseProductName);
		this.sql = "PostgreSQL".equals(product) ? "SELECT 1 FROM pg_sleep(?)" : "SELECT SLEEP(?)";
	}

	String sql() {
		return this.sql;
	}


}
