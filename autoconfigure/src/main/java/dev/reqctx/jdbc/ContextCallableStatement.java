package dev.reqctx.jdbc;

import java.io.InputStream;
import java.io.Reader;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Blob;
import java.sql.CallableStatement;
import java.sql.Clob;
import java.sql.NClob;
import java.sql.Ref;
import java.sql.RowId;
import java.sql.SQLException;
import java.sql.SQLType;
import java.sql.SQLXML;
import java.util.Calendar;
import java.util.Map;

/**
 * A {@link CallableStatement} that runs each execution under the calling thread's context.
 * Executions are inherited; everything else is plain delegation.
 */
final class ContextCallableStatement extends ContextPreparedStatement implements CallableStatement {

	private final CallableStatement callable;

	ContextCallableStatement(ContextConnection connection, CallableStatement target, String description) {
		super(connection, target, description);
		this.callable = target;
	}

	@Override
	public String toString() {
		return "ContextCallableStatement[" + this.callable + "]";
	}

	// Plain delegation

	@Override
	public void registerOutParameter(int parameterIndex, int sqlType) throws SQLException {
		this.callable.registerOutParameter(parameterIndex, sqlType);
	}

	@Override
	public void registerOutParameter(int parameterIndex, int sqlType, int scale) throws SQLException {
		this.callable.registerOutParameter(parameterIndex, sqlType, scale);
	}

	@Override
	public boolean wasNull() throws SQLException {
		return this.callable.wasNull();
	}

	@Override
	public String getString(int parameterIndex) throws SQLException {
		return this.callable.getString(parameterIndex);
	}

	@Override
	public boolean getBoolean(int parameterIndex) throws SQLException {
		return this.callable.getBoolean(parameterIndex);
	}

	@Override
	public byte getByte(int parameterIndex) throws SQLException {
		return this.callable.getByte(parameterIndex);
	}

	@Override
	public short getShort(int parameterIndex) throws SQLException {
		return this.callable.getShort(parameterIndex);
	}

	@Override
	public int getInt(int parameterIndex) throws SQLException {
		return this.callable.getInt(parameterIndex);
	}

	@Override
	public long getLong(int parameterIndex) throws SQLException {
		return this.callable.getLong(parameterIndex);
	}

	@Override
	public float getFloat(int parameterIndex) throws SQLException {
		return this.callable.getFloat(parameterIndex);
	}

	@Override
	public double getDouble(int parameterIndex) throws SQLException {
		return this.callable.getDouble(parameterIndex);
	}

	@Deprecated
	@Override
	public BigDecimal getBigDecimal(int parameterIndex, int scale) throws SQLException {
		return this.callable.getBigDecimal(parameterIndex, scale);
	}

	@Override
	public byte[] getBytes(int parameterIndex) throws SQLException {
		return this.callable.getBytes(parameterIndex);
	}

	@Override
	public java.sql.Date getDate(int parameterIndex) throws SQLException {
		return this.callable.getDate(parameterIndex);
	}

	@Override
	public java.sql.Time getTime(int parameterIndex) throws SQLException {
		return this.callable.getTime(parameterIndex);
	}

	@Override
	public java.sql.Timestamp getTimestamp(int parameterIndex) throws SQLException {
		return this.callable.getTimestamp(parameterIndex);
	}

	@Override
	public Object getObject(int parameterIndex) throws SQLException {
		return this.callable.getObject(parameterIndex);
	}

	@Override
	public BigDecimal getBigDecimal(int parameterIndex) throws SQLException {
		return this.callable.getBigDecimal(parameterIndex);
	}

	@Override
	public Object getObject(int parameterIndex, java.util.Map<String, Class<?>> map) throws SQLException {
		return this.callable.getObject(parameterIndex, map);
	}

	@Override
	public Ref getRef(int parameterIndex) throws SQLException {
		return this.callable.getRef(parameterIndex);
	}

	@Override
	public Blob getBlob(int parameterIndex) throws SQLException {
		return this.callable.getBlob(parameterIndex);
	}

	@Override
	public Clob getClob(int parameterIndex) throws SQLException {
		return this.callable.getClob(parameterIndex);
	}

	@Override
	public Array getArray(int parameterIndex) throws SQLException {
		return this.callable.getArray(parameterIndex);
	}

	@Override
	public java.sql.Date getDate(int parameterIndex, Calendar cal) throws SQLException {
		return this.callable.getDate(parameterIndex, cal);
	}

	@Override
	public java.sql.Time getTime(int parameterIndex, Calendar cal) throws SQLException {
		return this.callable.getTime(parameterIndex, cal);
	}

	@Override
	public java.sql.Timestamp getTimestamp(int parameterIndex, Calendar cal) throws SQLException {
		return this.callable.getTimestamp(parameterIndex, cal);
	}

	@Override
	public void registerOutParameter(int parameterIndex, int sqlType, String typeName) throws SQLException {
		this.callable.registerOutParameter(parameterIndex, sqlType, typeName);
	}

	@Override
	public void registerOutParameter(String parameterName, int sqlType) throws SQLException {
		this.callable.registerOutParameter(parameterName, sqlType);
	}

	@Override
	public void registerOutParameter(String parameterName, int sqlType, int scale) throws SQLException {
		this.callable.registerOutParameter(parameterName, sqlType, scale);
	}

	@Override
	public void registerOutParameter(String parameterName, int sqlType, String typeName) throws SQLException {
		this.callable.registerOutParameter(parameterName, sqlType, typeName);
	}

	@Override
	public java.net.URL getURL(int parameterIndex) throws SQLException {
		return this.callable.getURL(parameterIndex);
	}

	@Override
	public void setURL(String parameterName, java.net.URL val) throws SQLException {
		this.callable.setURL(parameterName, val);
	}

	@Override
	public void setNull(String parameterName, int sqlType) throws SQLException {
		this.callable.setNull(parameterName, sqlType);
	}

	@Override
	public void setBoolean(String parameterName, boolean x) throws SQLException {
		this.callable.setBoolean(parameterName, x);
	}

	@Override
	public void setByte(String parameterName, byte x) throws SQLException {
		this.callable.setByte(parameterName, x);
	}

	@Override
	public void setShort(String parameterName, short x) throws SQLException {
		this.callable.setShort(parameterName, x);
	}

	@Override
	public void setInt(String parameterName, int x) throws SQLException {
		this.callable.setInt(parameterName, x);
	}

	@Override
	public void setLong(String parameterName, long x) throws SQLException {
		this.callable.setLong(parameterName, x);
	}

	@Override
	public void setFloat(String parameterName, float x) throws SQLException {
		this.callable.setFloat(parameterName, x);
	}

	@Override
	public void setDouble(String parameterName, double x) throws SQLException {
		this.callable.setDouble(parameterName, x);
	}

	@Override
	public void setBigDecimal(String parameterName, BigDecimal x) throws SQLException {
		this.callable.setBigDecimal(parameterName, x);
	}

	@Override
	public void setString(String parameterName, String x) throws SQLException {
		this.callable.setString(parameterName, x);
	}

	@Override
	public void setBytes(String parameterName, byte[] x) throws SQLException {
		this.callable.setBytes(parameterName, x);
	}

	@Override
	public void setDate(String parameterName, java.sql.Date x) throws SQLException {
		this.callable.setDate(parameterName, x);
	}

	@Override
	public void setTime(String parameterName, java.sql.Time x) throws SQLException {
		this.callable.setTime(parameterName, x);
	}

	@Override
	public void setTimestamp(String parameterName, java.sql.Timestamp x) throws SQLException {
		this.callable.setTimestamp(parameterName, x);
	}

	@Override
	public void setAsciiStream(String parameterName, java.io.InputStream x, int length) throws SQLException {
		this.callable.setAsciiStream(parameterName, x, length);
	}

	@Override
	public void setBinaryStream(String parameterName, java.io.InputStream x, int length) throws SQLException {
		this.callable.setBinaryStream(parameterName, x, length);
	}

	@Override
	public void setObject(String parameterName, Object x, int targetSqlType, int scale) throws SQLException {
		this.callable.setObject(parameterName, x, targetSqlType, scale);
	}

	@Override
	public void setObject(String parameterName, Object x, int targetSqlType) throws SQLException {
		this.callable.setObject(parameterName, x, targetSqlType);
	}

	@Override
	public void setObject(String parameterName, Object x) throws SQLException {
		this.callable.setObject(parameterName, x);
	}

	@Override
	public void setCharacterStream(String parameterName, java.io.Reader reader, int length) throws SQLException {
		this.callable.setCharacterStream(parameterName, reader, length);
	}

	@Override
	public void setDate(String parameterName, java.sql.Date x, Calendar cal) throws SQLException {
		this.callable.setDate(parameterName, x, cal);
	}

	@Override
	public void setTime(String parameterName, java.sql.Time x, Calendar cal) throws SQLException {
		this.callable.setTime(parameterName, x, cal);
	}

	@Override
	public void setTimestamp(String parameterName, java.sql.Timestamp x, Calendar cal) throws SQLException {
		this.callable.setTimestamp(parameterName, x, cal);
	}

	@Override
	public void setNull(String parameterName, int sqlType, String typeName) throws SQLException {
		this.callable.setNull(parameterName, sqlType, typeName);
	}

	@Override
	public String getString(String parameterName) throws SQLException {
		return this.callable.getString(parameterName);
	}

	@Override
	public boolean getBoolean(String parameterName) throws SQLException {
		return this.callable.getBoolean(parameterName);
	}

	@Override
	public byte getByte(String parameterName) throws SQLException {
		return this.callable.getByte(parameterName);
	}

	@Override
	public short getShort(String parameterName) throws SQLException {
		return this.callable.getShort(parameterName);
	}

	@Override
	public int getInt(String parameterName) throws SQLException {
		return this.callable.getInt(parameterName);
	}

	@Override
	public long getLong(String parameterName) throws SQLException {
		return this.callable.getLong(parameterName);
	}

	@Override
	public float getFloat(String parameterName) throws SQLException {
		return this.callable.getFloat(parameterName);
	}

	@Override
	public double getDouble(String parameterName) throws SQLException {
		return this.callable.getDouble(parameterName);
	}

	@Override
	public byte[] getBytes(String parameterName) throws SQLException {
		return this.callable.getBytes(parameterName);
	}

	@Override
	public java.sql.Date getDate(String parameterName) throws SQLException {
		return this.callable.getDate(parameterName);
	}

	@Override
	public java.sql.Time getTime(String parameterName) throws SQLException {
		return this.callable.getTime(parameterName);
	}

	@Override
	public java.sql.Timestamp getTimestamp(String parameterName) throws SQLException {
		return this.callable.getTimestamp(parameterName);
	}

	@Override
	public Object getObject(String parameterName) throws SQLException {
		return this.callable.getObject(parameterName);
	}

	@Override
	public BigDecimal getBigDecimal(String parameterName) throws SQLException {
		return this.callable.getBigDecimal(parameterName);
	}

	@Override
	public Object getObject(String parameterName, java.util.Map<String, Class<?>> map) throws SQLException {
		return this.callable.getObject(parameterName, map);
	}

	@Override
	public Ref getRef(String parameterName) throws SQLException {
		return this.callable.getRef(parameterName);
	}

	@Override
	public Blob getBlob(String parameterName) throws SQLException {
		return this.callable.getBlob(parameterName);
	}

	@Override
	public Clob getClob(String parameterName) throws SQLException {
		return this.callable.getClob(parameterName);
	}

	@Override
	public Array getArray(String parameterName) throws SQLException {
		return this.callable.getArray(parameterName);
	}

	@Override
	public java.sql.Date getDate(String parameterName, Calendar cal) throws SQLException {
		return this.callable.getDate(parameterName, cal);
	}

	@Override
	public java.sql.Time getTime(String parameterName, Calendar cal) throws SQLException {
		return this.callable.getTime(parameterName, cal);
	}

	@Override
	public java.sql.Timestamp getTimestamp(String parameterName, Calendar cal) throws SQLException {
		return this.callable.getTimestamp(parameterName, cal);
	}

	@Override
	public java.net.URL getURL(String parameterName) throws SQLException {
		return this.callable.getURL(parameterName);
	}

	@Override
	public RowId getRowId(int parameterIndex) throws SQLException {
		return this.callable.getRowId(parameterIndex);
	}

	@Override
	public RowId getRowId(String parameterName) throws SQLException {
		return this.callable.getRowId(parameterName);
	}

	@Override
	public void setRowId(String parameterName, RowId x) throws SQLException {
		this.callable.setRowId(parameterName, x);
	}

	@Override
	public void setNString(String parameterName, String value) throws SQLException {
		this.callable.setNString(parameterName, value);
	}

	@Override
	public void setNCharacterStream(String parameterName, Reader value, long length) throws SQLException {
		this.callable.setNCharacterStream(parameterName, value, length);
	}

	@Override
	public void setNClob(String parameterName, NClob value) throws SQLException {
		this.callable.setNClob(parameterName, value);
	}

	@Override
	public void setClob(String parameterName, Reader reader, long length) throws SQLException {
		this.callable.setClob(parameterName, reader, length);
	}

	@Override
	public void setBlob(String parameterName, InputStream inputStream, long length) throws SQLException {
		this.callable.setBlob(parameterName, inputStream, length);
	}

	@Override
	public void setNClob(String parameterName, Reader reader, long length) throws SQLException {
		this.callable.setNClob(parameterName, reader, length);
	}

	@Override
	public NClob getNClob(int parameterIndex) throws SQLException {
		return this.callable.getNClob(parameterIndex);
	}

	@Override
	public NClob getNClob(String parameterName) throws SQLException {
		return this.callable.getNClob(parameterName);
	}

	@Override
	public void setSQLXML(String parameterName, SQLXML xmlObject) throws SQLException {
		this.callable.setSQLXML(parameterName, xmlObject);
	}

	@Override
	public SQLXML getSQLXML(int parameterIndex) throws SQLException {
		return this.callable.getSQLXML(parameterIndex);
	}

	@Override
	public SQLXML getSQLXML(String parameterName) throws SQLException {
		return this.callable.getSQLXML(parameterName);
	}

	@Override
	public String getNString(int parameterIndex) throws SQLException {
		return this.callable.getNString(parameterIndex);
	}

	@Override
	public String getNString(String parameterName) throws SQLException {
		return this.callable.getNString(parameterName);
	}

	@Override
	public java.io.Reader getNCharacterStream(int parameterIndex) throws SQLException {
		return this.callable.getNCharacterStream(parameterIndex);
	}

	@Override
	public java.io.Reader getNCharacterStream(String parameterName) throws SQLException {
		return this.callable.getNCharacterStream(parameterName);
	}

	@Override
	public java.io.Reader getCharacterStream(int parameterIndex) throws SQLException {
		return this.callable.getCharacterStream(parameterIndex);
	}

	@Override
	public java.io.Reader getCharacterStream(String parameterName) throws SQLException {
		return this.callable.getCharacterStream(parameterName);
	}

	@Override
	public void setBlob(String parameterName, Blob x) throws SQLException {
		this.callable.setBlob(parameterName, x);
	}

	@Override
	public void setClob(String parameterName, Clob x) throws SQLException {
		this.callable.setClob(parameterName, x);
	}

	@Override
	public void setAsciiStream(String parameterName, java.io.InputStream x, long length) throws SQLException {
		this.callable.setAsciiStream(parameterName, x, length);
	}

	@Override
	public void setBinaryStream(String parameterName, java.io.InputStream x, long length) throws SQLException {
		this.callable.setBinaryStream(parameterName, x, length);
	}

	@Override
	public void setCharacterStream(String parameterName, java.io.Reader reader, long length) throws SQLException {
		this.callable.setCharacterStream(parameterName, reader, length);
	}

	@Override
	public void setAsciiStream(String parameterName, java.io.InputStream x) throws SQLException {
		this.callable.setAsciiStream(parameterName, x);
	}

	@Override
	public void setBinaryStream(String parameterName, java.io.InputStream x) throws SQLException {
		this.callable.setBinaryStream(parameterName, x);
	}

	@Override
	public void setCharacterStream(String parameterName, java.io.Reader reader) throws SQLException {
		this.callable.setCharacterStream(parameterName, reader);
	}

	@Override
	public void setNCharacterStream(String parameterName, Reader value) throws SQLException {
		this.callable.setNCharacterStream(parameterName, value);
	}

	@Override
	public void setClob(String parameterName, Reader reader) throws SQLException {
		this.callable.setClob(parameterName, reader);
	}

	@Override
	public void setBlob(String parameterName, InputStream inputStream) throws SQLException {
		this.callable.setBlob(parameterName, inputStream);
	}

	@Override
	public void setNClob(String parameterName, Reader reader) throws SQLException {
		this.callable.setNClob(parameterName, reader);
	}

	@Override
	public <T> T getObject(int parameterIndex, Class<T> type) throws SQLException {
		return this.callable.getObject(parameterIndex, type);
	}

	@Override
	public <T> T getObject(String parameterName, Class<T> type) throws SQLException {
		return this.callable.getObject(parameterName, type);
	}

	@Override
	public void setObject(String parameterName, Object x, SQLType targetSqlType, int scaleOrLength) throws SQLException {
		this.callable.setObject(parameterName, x, targetSqlType, scaleOrLength);
	}

	@Override
	public void setObject(String parameterName, Object x, SQLType targetSqlType) throws SQLException {
		this.callable.setObject(parameterName, x, targetSqlType);
	}

	@Override
	public void registerOutParameter(int parameterIndex, SQLType sqlType) throws SQLException {
		this.callable.registerOutParameter(parameterIndex, sqlType);
	}

	@Override
	public void registerOutParameter(int parameterIndex, SQLType sqlType, int scale) throws SQLException {
		this.callable.registerOutParameter(parameterIndex, sqlType, scale);
	}

	@Override
	public void registerOutParameter(int parameterIndex, SQLType sqlType, String typeName) throws SQLException {
		this.callable.registerOutParameter(parameterIndex, sqlType, typeName);
	}

	@Override
	public void registerOutParameter(String parameterName, SQLType sqlType) throws SQLException {
		this.callable.registerOutParameter(parameterName, sqlType);
	}

	@Override
	public void registerOutParameter(String parameterName, SQLType sqlType, int scale) throws SQLException {
		this.callable.registerOutParameter(parameterName, sqlType, scale);
	}

	@Override
	public void registerOutParameter(String parameterName, SQLType sqlType, String typeName) throws SQLException {
		this.callable.registerOutParameter(parameterName, sqlType, typeName);
	}

}
