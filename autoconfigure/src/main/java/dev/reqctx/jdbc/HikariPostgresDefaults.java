package dev.reqctx.jdbc;

import java.util.Locale;
import java.util.Properties;

import com.zaxxer.hikari.HikariConfig;

/**
 * Driver settings that make the deadline hold on a PostgreSQL HikariCP pool when the database
 * host stops answering, set only where the pool's configuration leaves them unset:
 * <ul>
 * <li>{@code socketFactory} = {@link BreakableSocketFactory}, so a borrow stuck validating a dead
 * connection ends when its context is cancelled;
 * <li>{@code cancelSignalTimeout} = 1 (second; PgJDBC's default is 10), so a cancel request to
 * an unreachable host gives up its thread soon: cancels are retried anyway, and a statement that
 * outlives its cancels has its connection aborted.
 * </ul>
 * Values in the JDBC URL win over these, as PgJDBC reads the URL last.
 */
public final class HikariPostgresDefaults {

	/** The cancel timeout set, in PgJDBC's unit (seconds). */
	static final String CANCEL_SIGNAL_TIMEOUT = "1";

	private HikariPostgresDefaults() {
	}

	/**
	 * Applies the defaults to a pool that is not started yet and connects to PostgreSQL through
	 * PgJDBC's driver or data source; does nothing otherwise.
	 * @param config the pool's configuration (a {@code HikariDataSource} is one)
	 * @return whether the defaults were applied
	 */
	public static boolean apply(HikariConfig config) {
		if (!isPostgres(config) || config.getDataSource() != null) {
			return false;
		}
		Properties properties = config.getDataSourceProperties();
		try {
			if (!properties.containsKey("socketFactory")) {
				config.addDataSourceProperty("socketFactory", BreakableSocketFactory.class.getName());
			}
			if (!properties.containsKey("cancelSignalTimeout")) {
				config.addDataSourceProperty("cancelSignalTimeout", CANCEL_SIGNAL_TIMEOUT);
			}
			return true;
		}
		catch (IllegalStateException ex) {
			// Sealed: the pool has started, and its connections are made already.
			return false;
		}
	}

	private static boolean isPostgres(HikariConfig config) {
		String className = config.getDataSourceClassName();
		if (className != null) {
			return className.startsWith("org.postgresql.");
		}
		String url = config.getJdbcUrl();
		return url != null && url.toLowerCase(Locale.ROOT).startsWith("jdbc:postgresql:");
	}

}
