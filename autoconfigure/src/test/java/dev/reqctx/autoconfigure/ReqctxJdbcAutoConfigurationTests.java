package dev.reqctx.autoconfigure;

import java.time.Duration;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import dev.reqctx.jdbc.BreakableSocketFactory;
import dev.reqctx.jdbc.ContextDataSource;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourcePoolMetadataProvidersConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.jdbc.metadata.DataSourcePoolMetadata;
import org.springframework.boot.jdbc.metadata.DataSourcePoolMetadataProvider;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ReqctxJdbcAutoConfiguration}.
 */
class ReqctxJdbcAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withPropertyValues("spring.datasource.url=jdbc:h2:mem:reqctx-autoconfig;DB_CLOSE_DELAY=-1")
		.withConfiguration(AutoConfigurations.of(ReqctxAutoConfiguration.class, ReqctxJdbcAutoConfiguration.class,
				DataSourceAutoConfiguration.class, DataSourceTransactionManagerAutoConfiguration.class,
				JdbcTemplateAutoConfiguration.class));

	@Test
	void dataSourceIsWrappedByDefault() {
		this.runner.run((context) -> {
			DataSource dataSource = context.getBean(DataSource.class);
			assertThat(dataSource).isInstanceOf(ContextDataSource.class);
			assertThat(context.getBean(JdbcTemplate.class).getDataSource()).isSameAs(dataSource);
			assertThat(context.getBean(JdbcTemplate.class).queryForObject("SELECT 1", Integer.class)).isEqualTo(1);
		});
	}

	@Test
	void wrappedDataSourceUnwrapsToTheHikariPool() {
		this.runner.run((context) -> {
			DataSource dataSource = context.getBean(DataSource.class);
			assertThat(dataSource.isWrapperFor(HikariDataSource.class)).isTrue();
			HikariDataSource hikari = dataSource.unwrap(HikariDataSource.class);
			assertThat(((ContextDataSource) dataSource).getTarget()).isSameAs(hikari);
		});
	}

	@Test
	void poolMetadataStillReachesTheHikariPool() {
		this.runner.withConfiguration(AutoConfigurations.of(DataSourcePoolMetadataProvidersConfiguration.class))
			.run((context) -> {
				DataSourcePoolMetadata metadata = context.getBean(DataSourcePoolMetadataProvider.class)
					.getDataSourcePoolMetadata(context.getBean(DataSource.class));
				assertThat(metadata).isNotNull();
				assertThat(metadata.getMax()).isEqualTo(10);
			});
	}

	@Test
	void jdbcDisabledLeavesDataSourceUnwrapped() {
		this.runner.withPropertyValues("reqctx.jdbc.enabled=false")
			.run((context) -> assertThat(context.getBean(DataSource.class)).isInstanceOf(HikariDataSource.class));
	}

	@Test
	void reqctxDisabledLeavesDataSourceUnwrapped() {
		this.runner.withPropertyValues("reqctx.enabled=false")
			.run((context) -> assertThat(context.getBean(DataSource.class)).isInstanceOf(HikariDataSource.class));
	}

	@Test
	void settingsComeFromProperties() {
		this.runner
			.withPropertyValues("reqctx.jdbc.max-sql-length=50", "reqctx.jdbc.cancel-retry-interval=20ms",
					"reqctx.jdbc.abort-after=2s")
			.run((context) -> assertThat(context.getBean(ContextDataSource.class).getSettings())
				.isEqualTo(new ContextDataSource.Settings(50, Duration.ofMillis(20), Duration.ofSeconds(2))));
	}

	@Test
	void defaultSettingsMatchTheLibraryDefaults() {
		this.runner.run((context) -> assertThat(context.getBean(ContextDataSource.class).getSettings())
			.isEqualTo(ContextDataSource.Settings.DEFAULTS));
	}

	@Test
	void userDefinedDataSourceIsWrappedOnce() {
		this.runner.withBean("userDataSource", DataSource.class, () -> new ContextDataSource(new HikariDataSource()))
			.run((context) -> {
				ContextDataSource dataSource = context.getBean(ContextDataSource.class);
				assertThat(dataSource.getTarget()).isInstanceOf(HikariDataSource.class);
			});
	}

	@Test
	void postgresPoolGetsTheBreakableSocketFactoryAndAShortCancelTimeout() {
		// No connection is opened: the pool starts on first use, and these tests never use it.
		this.runner.withPropertyValues("spring.datasource.url=jdbc:postgresql://127.0.0.1:1/none").run((context) -> {
			HikariDataSource hikari = context.getBean(DataSource.class).unwrap(HikariDataSource.class);
			assertThat(hikari.getDataSourceProperties()).containsEntry("socketFactory",
					BreakableSocketFactory.class.getName())
				.containsEntry("cancelSignalTimeout", "1");
		});
	}

	@Test
	void driverDefaultsKeepWhatTheUserSet() {
		this.runner
			.withPropertyValues("spring.datasource.url=jdbc:postgresql://127.0.0.1:1/none",
					"spring.datasource.hikari.data-source-properties.cancelSignalTimeout=3")
			.run((context) -> {
				HikariDataSource hikari = context.getBean(DataSource.class).unwrap(HikariDataSource.class);
				assertThat(hikari.getDataSourceProperties()).containsEntry("cancelSignalTimeout", "3")
					.containsKey("socketFactory");
			});
	}

	@Test
	void driverDefaultsCanBeSwitchedOff() {
		this.runner
			.withPropertyValues("spring.datasource.url=jdbc:postgresql://127.0.0.1:1/none",
					"reqctx.jdbc.driver-defaults=false")
			.run((context) -> assertThat(
					context.getBean(DataSource.class).unwrap(HikariDataSource.class).getDataSourceProperties())
				.doesNotContainKeys("socketFactory", "cancelSignalTimeout"));
	}

	@Test
	void otherDatabasesGetNoDriverDefaults() {
		this.runner.run((context) -> assertThat(
				context.getBean(DataSource.class).unwrap(HikariDataSource.class).getDataSourceProperties())
			.doesNotContainKeys("socketFactory", "cancelSignalTimeout"));
	}

}
