package dev.reqctx.autoconfigure;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import dev.reqctx.jdbc.ContextDataSource;
import dev.reqctx.jdbc.HikariPostgresDefaults;
import dev.reqctx.spi.ContextObserver;
import dev.reqctx.spi.UnboundOperations;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Role;
import org.springframework.util.ClassUtils;

/**
 * {@link AutoConfiguration Auto-configuration} that wraps every {@link DataSource} bean in a
 * {@link ContextDataSource}, so statements run under their request's deadline and are cancelled
 * with it.
 */
@AutoConfiguration(after = ReqctxAutoConfiguration.class)
@ConditionalOnClass(DataSource.class)
@ConditionalOnBooleanProperty(name = "reqctx.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "reqctx.jdbc.enabled", matchIfMissing = true)
public final class ReqctxJdbcAutoConfiguration {

	@Bean
	@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
	static ContextDataSourcePostProcessor reqctxContextDataSourcePostProcessor(
			ObjectProvider<ReqctxProperties> properties, ObjectProvider<ContextObserver> observers,
			ObjectProvider<UnboundOperations> unbound) {
		return new ContextDataSourcePostProcessor(properties, observers, unbound);
	}

	private static final boolean HIKARI_PRESENT = ClassUtils.isPresent("com.zaxxer.hikari.HikariDataSource",
			ReqctxJdbcAutoConfiguration.class.getClassLoader());

	/**
	 * Wraps {@link DataSource} beans. Its dependencies are resolved when the first data source
	 * is wrapped, so that registering it initialises nothing early.
	 */
	static final class ContextDataSourcePostProcessor implements BeanPostProcessor {

		private final ObjectProvider<ReqctxProperties> properties;

		private final ObjectProvider<ContextObserver> observers;

		private final ObjectProvider<UnboundOperations> unbound;

		ContextDataSourcePostProcessor(ObjectProvider<ReqctxProperties> properties,
				ObjectProvider<ContextObserver> observers, ObjectProvider<UnboundOperations> unbound) {
			this.properties = properties;
			this.observers = observers;
			this.unbound = unbound;
		}

		@Override
		public Object postProcessAfterInitialization(Object bean, String beanName) {
			if (bean instanceof DataSource dataSource && !(bean instanceof ContextDataSource)) {
				ReqctxProperties.Jdbc jdbc = this.properties.getIfAvailable(ReqctxProperties::new).getJdbc();
				if (jdbc.isDriverDefaults() && HIKARI_PRESENT) {
					HikariDefaults.apply(dataSource);
				}
				ContextDataSource.Settings settings = new ContextDataSource.Settings(jdbc.getMaxSqlLength(),
						jdbc.getCancelRetryInterval(), jdbc.getAbortAfter());
				return new ContextDataSource(dataSource, settings,
						() -> this.observers.getIfAvailable(() -> ContextObserver.NONE),
						() -> this.unbound.getIfUnique(() -> UnboundOperations.NONE));
			}
			return bean;
		}

	}

	/** Loaded only when HikariCP is on the classpath. */
	private static final class HikariDefaults {

		static void apply(DataSource dataSource) {
			if (dataSource instanceof HikariDataSource hikari && hikari.getHikariPoolMXBean() == null) {
				HikariPostgresDefaults.apply(hikari);
			}
		}

	}

}
