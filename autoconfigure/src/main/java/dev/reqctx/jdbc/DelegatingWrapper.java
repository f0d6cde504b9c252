package dev.reqctx.jdbc;

import java.sql.SQLException;
import java.sql.Wrapper;

/**
 * The base of the delegating JDBC objects: holds the driver's object and lets
 * {@link #unwrap(Class)} reach it, so pools and drivers find their own objects under reqctx's.
 * @param <T> the type of the driver's object
 */
abstract class DelegatingWrapper<T extends Wrapper> implements Wrapper {

	final T target;

	DelegatingWrapper(T target) {
		this.target = target;
	}

	@Override
	public <U> U unwrap(Class<U> iface) throws SQLException {
		return iface.isInstance(this.target) ? iface.cast(this.target) : this.target.unwrap(iface);
	}

	@Override
	public boolean isWrapperFor(Class<?> iface) throws SQLException {
		return iface.isInstance(this.target) || this.target.isWrapperFor(iface);
	}

}
