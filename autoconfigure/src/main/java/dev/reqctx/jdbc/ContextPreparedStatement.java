package dev.reqctx.jdbc;

import java.io.InputStream;
import java.io.Reader;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Blob;
import java.sql.Clob;
import java.sql.NClob;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.Ref;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.RowId;
import java.sql.SQLException;
import java.sql.SQLType;
import java.sql.SQLXML;
import java.util.Calendar;

import dev.reqctx.RequestContext;
import dev.reqctx.spi.Operation;

/**
 * A {@link PreparedStatement} that runs each execution under the calling thread's context.
 * Binding parameters is plain delegation: only executions do work.
 */
class ContextPreparedStatement extends ContextStatement implements PreparedStatement {

	private final PreparedStatement prepared;

	ContextPreparedStatement(ContextConnection connection, PreparedStatement target, String description) {
		super(connection, target, description);
		this.prepared = target;
	}

	@Override
	public ResultSet executeQuery() throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.prepared.executeQuery();
		}
		Operation op = begin(ctx, null);
		try {
			return this.prepared.executeQuery();
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public int executeUpdate() throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.prepared.executeUpdate();
		}
		Operation op = begin(ctx, null);
		try {
			return this.prepared.executeUpdate();
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public long executeLargeUpdate() throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.prepared.executeLargeUpdate();
		}
		Operation op = begin(ctx, null);
		try {
			return this.prepared.executeLargeUpdate();
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public boolean execute() throws SQLException {
		RequestContext ctx = RequestContext.current();
		if (!ctx.isCancellable()) {
			restoreTimeoutIfLowered();
			return this.prepared.execute();
		}
		Operation op = begin(ctx, null);
		try {
			return this.prepared.execute();
		}
		catch (SQLException ex) {
			throw ContextDataSource.translate(ctx, ex);
		}
		finally {
			end(ctx, op);
		}
	}

	@Override
	public String toString() {
		return "ContextPreparedStatement[" + this.prepared + "]";
	}

	// Plain delegation

	@Override
	public void setNull(int parameterIndex, int sqlType) throws SQLException {
		this.prepared.setNull(parameterIndex, sqlType);
	}

	@Override
	public void setBoolean(int parameterIndex, boolean x) throws SQLException {
		this.prepared.setBoolean(parameterIndex, x);
	}

	@Override
	public void setByte(int parameterIndex, byte x) throws SQLException {
		this.prepared.setByte(parameterIndex, x);
	}

	@Override
	public void setShort(int parameterIndex, short x) throws SQLException {
		this.prepared.setShort(parameterIndex, x);
	}

	@Override
	public void setInt(int parameterIndex, int x) throws SQLException {
		this.prepared.setInt(parameterIndex, x);
	}

	@Override
	public void setLong(int parameterIndex, long x) throws SQLException {
		this.prepared.setLong(parameterIndex, x);
	}

	@Override
	public void setFloat(int parameterIndex, float x) throws SQLException {
		this.prepared.setFloat(parameterIndex, x);
	}

	@Override
	public void setDouble(int parameterIndex, double x) throws SQLException {
		this.prepared.setDouble(parameterIndex, x);
	}

	@Override
	public void setBigDecimal(int parameterIndex, BigDecimal x) throws SQLException {
		this.prepared.setBigDecimal(parameterIndex, x);
	}

	@Override
	public void setString(int parameterIndex, String x) throws SQLException {
		this.prepared.setString(parameterIndex, x);
	}

	@Override
	public void setBytes(int parameterIndex, byte[] x) throws SQLException {
		this.prepared.setBytes(parameterIndex, x);
	}

	@Override
	public void setDate(int parameterIndex, java.sql.Date x) throws SQLException {
		this.prepared.setDate(parameterIndex, x);
	}

	@Override
	public void setTime(int parameterIndex, java.sql.Time x) throws SQLException {
		this.prepared.setTime(parameterIndex, x);
	}

	@Override
	public void setTimestamp(int parameterIndex, java.sql.Timestamp x) throws SQLException {
		this.prepared.setTimestamp(parameterIndex, x);
	}

	@Override
	public void setAsciiStream(int parameterIndex, java.io.InputStream x, int length) throws SQLException {
		this.prepared.setAsciiStream(parameterIndex, x, length);
	}

	@Deprecated
	@Override
	public void setUnicodeStream(int parameterIndex, java.io.InputStream x, int length) throws SQLException {
		this.prepared.setUnicodeStream(parameterIndex, x, length);
	}

	@Override
	public void setBinaryStream(int parameterIndex, java.io.InputStream x, int length) throws SQLException {
		this.prepared.setBinaryStream(parameterIndex, x, length);
	}

	@Override
	public void clearParameters() throws SQLException {
		this.prepared.clearParameters();
	}

	@Override
	public void setObject(int parameterIndex, Object x, int targetSqlType) throws SQLException {
		this.prepared.setObject(parameterIndex, x, targetSqlType);
	}

	@Override
	public void setObject(int parameterIndex, Object x) throws SQLException {
		this.prepared.setObject(parameterIndex, x);
	}

	@Override
	public void addBatch() throws SQLException {
		this.prepared.addBatch();
	}

	@Override
	public void setCharacterStream(int parameterIndex, java.io.Reader reader, int length) throws SQLException {
		this.prepared.setCharacterStream(parameterIndex, reader, length);
	}

	@Override
	public void setRef(int parameterIndex, Ref x) throws SQLException {
		this.prepared.setRef(parameterIndex, x);
	}

	@Override
	public void setBlob(int parameterIndex, Blob x) throws SQLException {
		this.prepared.setBlob(parameterIndex, x);
	}

	@Override
	public void setClob(int parameterIndex, Clob x) throws SQLException {
		this.prepared.setClob(parameterIndex, x);
	}

	@Override
	public void setArray(int parameterIndex, Array x) throws SQLException {
		this.prepared.setArray(parameterIndex, x);
	}

	@Override
	public ResultSetMetaData getMetaData() throws SQLException {
		return this.prepared.getMetaData();
	}

	@Override
	public void setDate(int parameterIndex, java.sql.Date x, Calendar cal) throws SQLException {
		this.prepared.setDate(parameterIndex, x, cal);
	}

	@Override
	public void setTime(int parameterIndex, java.sql.Time x, Calendar cal) throws SQLException {
		this.prepared.setTime(parameterIndex, x, cal);
	}

	@Override
	public void setTimestamp(int parameterIndex, java.sql.Timestamp x, Calendar cal) throws SQLException {
		this.prepared.setTimestamp(parameterIndex, x, cal);
	}

	@Override
	public void setNull(int parameterIndex, int sqlType, String typeName) throws SQLException {
		this.prepared.setNull(parameterIndex, sqlType, typeName);
	}

	@Override
	public void setURL(int parameterIndex, java.net.URL x) throws SQLException {
		this.prepared.setURL(parameterIndex, x);
	}

	@Override
	public ParameterMetaData getParameterMetaData() throws SQLException {
		return this.prepared.getParameterMetaData();
	}

	@Override
	public void setRowId(int parameterIndex, RowId x) throws SQLException {
		this.prepared.setRowId(parameterIndex, x);
	}

	@Override
	public void setNString(int parameterIndex, String value) throws SQLException {
		this.prepared.setNString(parameterIndex, value);
	}

	@Override
	public void setNCharacterStream(int parameterIndex, Reader value, long length) throws SQLException {
		this.prepared.setNCharacterStream(parameterIndex, value, length);
	}

	@Override
	public void setNClob(int parameterIndex, NClob value) throws SQLException {
		this.prepared.setNClob(parameterIndex, value);
	}

	@Override
	public void setClob(int parameterIndex, Reader reader, long length) throws SQLException {
		this.prepared.setClob(parameterIndex, reader, length);
	}

	@Override
	public void setBlob(int parameterIndex, InputStream inputStream, long length) throws SQLException {
		this.prepared.setBlob(parameterIndex, inputStream, length);
	}

	@Override
	public void setNClob(int parameterIndex, Reader reader, long length) throws SQLException {
		this.prepared.setNClob(parameterIndex, reader, length);
	}

	@Override
	public void setSQLXML(int parameterIndex, SQLXML xmlObject) throws SQLException {
		this.prepared.setSQLXML(parameterIndex, xmlObject);
	}

	@Override
	public void setObject(int parameterIndex, Object x, int targetSqlType, int scaleOrLength) throws SQLException {
		this.prepared.setObject(parameterIndex, x, targetSqlType, scaleOrLength);
	}

	@Override
	public void setAsciiStream(int parameterIndex, java.io.InputStream x, long length) throws SQLException {
		this.prepared.setAsciiStream(parameterIndex, x, length);
	}

	@Override
	public void setBinaryStream(int parameterIndex, java.io.InputStream x, long length) throws SQLException {
		this.prepared.setBinaryStream(parameterIndex, x, length);
	}

	@Override
	public void setCharacterStream(int parameterIndex, java.io.Reader reader, long length) throws SQLException {
		this.prepared.setCharacterStream(parameterIndex, reader, length);
	}

	@Override
	public void setAsciiStream(int parameterIndex, java.io.InputStream x) throws SQLException {
		this.prepared.setAsciiStream(parameterIndex, x);
	}

	@Override
	public void setBinaryStream(int parameterIndex, java.io.InputStream x) throws SQLException {
		this.prepared.setBinaryStream(parameterIndex, x);
	}

	@Override
	public void setCharacterStream(int parameterIndex, java.io.Reader reader) throws SQLException {
		this.prepared.setCharacterStream(parameterIndex, reader);
	}

	@Override
	public void setNCharacterStream(int parameterIndex, Reader value) throws SQLException {
		this.prepared.setNCharacterStream(parameterIndex, value);
	}

	@Override
	public void setClob(int parameterIndex, Reader reader) throws SQLException {
		this.prepared.setClob(parameterIndex, reader);
	}

	@Override
	public void setBlob(int parameterIndex, InputStream inputStream) throws SQLException {
		this.prepared.setBlob(parameterIndex, inputStream);
	}

	@Override
	public void setNClob(int parameterIndex, Reader reader) throws SQLException {
		this.prepared.setNClob(parameterIndex, reader);
	}

	@Override
	public void setObject(int parameterIndex, Object x, SQLType targetSqlType, int scaleOrLength) throws SQLException {
		this.prepared.setObject(parameterIndex, x, targetSqlType, scaleOrLength);
	}

	@Override
	public void setObject(int parameterIndex, Object x, SQLType targetSqlType) throws SQLException {
		this.prepared.setObject(parameterIndex, x, targetSqlType);
	}

}
