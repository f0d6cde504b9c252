package dev.reqctx.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

/**
 * A driver-level {@link DataSource} wrapper for tests that plays a driver or pooler losing
 * cancels: its statements ignore the first {@code ignoredCancels} calls to {@code cancel()}
 * (across all statements), or refuse cancel and query timeouts altogether. It goes under the
 * pool, where a real driver would be.
 */
final class LossyDataSource {

	final AtomicInteger cancelCalls = new AtomicInteger();

	final AtomicInteger abortCalls = new AtomicInteger();

	final AtomicInteger connectionsOpened = new AtomicInteger();

	private final DataSource target;

	private final int ignoredCancels;

	private final boolean unsupported;

	private LossyDataSource(DataSource target, int ignoredCancels, boolean unsupported) {
		this.target = target;
		this.ignoredCancels = ignoredCancels;
		this.unsupported = unsupported;
	}

	/** Statements ignore the first {@code ignoredCancels} cancels. */
	static LossyDataSource ignoringCancels(DataSource target, int ignoredCancels) {
		return new LossyDataSource(target, ignoredCancels, false);
	}

	/** Statements throw {@link SQLFeatureNotSupportedException} for cancel and query timeouts. */
	static LossyDataSource withoutCancelSupport(DataSource target) {
		return new LossyDataSource(target, 0, true);
	}

	DataSource dataSource() {
		return proxy(DataSource.class, this.target, (proxy, method, args) -> {
			Object result = invoke(this.target, method, args);
			if (result instanceof Connection connection) {
				this.connectionsOpened.incrementAndGet();
				return connection(connection);
			}
			return result;
		});
	}

	private Connection connection(Connection target) {
		return proxy(Connection.class, target, (proxy, method, args) -> {
			if (method.getName().equals("abort")) {
				this.abortCalls.incrementAndGet();
			}
			if (isDriverClassLookup(method, args)) {
				// Plays another driver: reqctx must go through Statement.cancel(), not PgJDBC's own
				// cancel request, for the cancels to be lost here.
				if (method.getName().equals("isWrapperFor")) {
					return false;
				}
				throw new SQLException("not a wrapper for " + args[0]);
			}
			Object result = invoke(target, method, args);
			if (result instanceof CallableStatement statement) {
				return statement(CallableStatement.class, statement);
			}
			if (result instanceof PreparedStatement statement) {
				return statement(PreparedStatement.class, statement);
			}
			if (result instanceof Statement statement) {
				return statement(Statement.class, statement);
			}
			return result;
		});
	}

	private <S extends Statement> S statement(Class<S> type, S target) {
		return proxy(type, target, (proxy, method, args) -> {
			String name = method.getName();
			if (this.unsupported && (name.equals("cancel") || name.equals("setQueryTimeout"))) {
				throw new SQLFeatureNotSupportedException(name + " is not supported by this test driver");
			}
			if (name.equals("cancel") && this.cancelCalls.incrementAndGet() <= this.ignoredCancels) {
				return null;
			}
			return invoke(target, method, args);
		});
	}

	private static boolean isDriverClassLookup(Method method, Object[] args) {
		String name = method.getName();
		return (name.equals("isWrapperFor") || name.equals("unwrap")) && args[0] instanceof Class<?> type
				&& type.getName().startsWith("org.postgresql.");
	}

	private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
		try {
			return method.invoke(target, args);
		}
		catch (InvocationTargetException ex) {
			throw ex.getCause();
		}
	}

	private static <T> T proxy(Class<T> type, Object target, InvocationHandler handler) {
		return type.cast(Proxy.newProxyInstance(LossyDataSource.class.getClassLoader(), new Class<?>[] { type }, handler));
	}

}
