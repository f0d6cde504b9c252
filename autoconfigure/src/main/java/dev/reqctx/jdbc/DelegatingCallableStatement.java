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
 * Plain delegation of every {@link CallableStatement} method of its own (out parameters); the
 * executions come from {@link ContextPreparedStatement}. Nothing here may do more than call the
 * target.
 */
abstract class DelegatingCallableStatement extends ContextPreparedStatement<CallableStatement>
		implements CallableStatement {

	DelegatingCallableStatement(ContextConnection connection, CallableStatement target, String description) {
		super(connection, target, description);
	}

	@Override
	public void registerOutParameter(int parameterIndex, int sqlType) throws SQLException {
		this.target.registerOutParameter(parameterIndex, sqlType);
	}

	@Override
	public void registerOutParameter(int parameterIndex, int sqlType, int scale) throws SQLException {
		this.target.registerOutParameter(parameterIndex, sqlType, scale);
	}

	@Override
	public boolean wasNull() throws SQLException {
		return this.target.wasNull();
	}

	@Override
	public String getString(int parameterIndex) throws SQLException {
		return this.target.getString(parameterIndex);
	}

	@Override
	public boolean getBoolean(int parameterIndex) throws SQLException {
		return this.target.getBoolean(parameterIndex);
	}

	@Override
	public byte getByte(int parameterIndex) throws SQLException {
		return this.target.getByte(parameterIndex);
	}

	@Override
	public short getShort(int parameterIndex) throws SQLException {
		return this.target.getShort(parameterIndex);
	}

	@Override
	public int getInt(int parameterIndex) throws SQLException {
		return this.target.getInt(parameterIndex);
	}

	@Override
	public long getLong(int parameterIndex) throws SQLException {
		return this.target.getLong(parameterIndex);
	}

	@Override
	public float getFloat(int parameterIndex) throws SQLException {
		return this.target.getFloat(parameterIndex);
	}

	@Override
	public double getDouble(int parameterIndex) throws SQLException {
		return this.target.getDouble(parameterIndex);
	}

	@Deprecated
	@Override
	public BigDecimal getBigDecimal(int parameterIndex, int scale) throws SQLException {
		return this.target.getBigDecimal(parameterIndex, scale);
	}

	@Override
	public byte[] getBytes(int parameterIndex) throws SQLException {
		return this.target.getBytes(parameterIndex);
	}

	@Override
	public java.sql.Date getDate(int parameterIndex) throws SQLException {
		return this.target.getDate(parameterIndex);
	}

	@Override
	public java.sql.Time getTime(int parameterIndex) throws SQLException {
		return this.target.getTime(parameterIndex);
	}

	@Override
	public java.sql.Timestamp getTimestamp(int parameterIndex) throws SQLException {
		return this.target.getTimestamp(parameterIndex);
	}

	@Override
	public Object getObject(int parameterIndex) throws SQLException {
		return this.target.getObject(parameterIndex);
	}

	@Override
	public BigDecimal getBigDecimal(int parameterIndex) throws SQLException {
		return this.target.getBigDecimal(parameterIndex);
	}

	@Override
	public Object getObject(int parameterIndex, java.util.Map<String, Class<?>> map) throws SQLException {
		return this.target.getObject(parameterIndex, map);
	}

	@Override
	public Ref getRef(int parameterIndex) throws SQLException {
		return this.target.getRef(parameterIndex);
	}

	@Override
	public Blob getBlob(int parameterIndex) throws SQLException {
		return this.target.getBlob(parameterIndex);
	}

	@Override
	public Clob getClob(int parameterIndex) throws SQLException {
		return this.target.getClob(parameterIndex);
	}

	@Override
	public Array getArray(int parameterIndex) throws SQLException {
		return this.target.getArray(parameterIndex);
	}

	@Override
	public java.sql.Date getDate(int parameterIndex, Calendar cal) throws SQLException {
		return this.target.getDate(parameterIndex, cal);
	}

	@Override
	public java.sql.Time getTime(int parameterIndex, Calendar cal) throws SQLException {
		return this.target.getTime(parameterIndex, cal);
	}

	@Override
	public java.sql.Timestamp getTimestamp(int parameterIndex, Calendar cal) throws SQLException {
		return this.target.getTimestamp(parameterIndex, cal);
	}

	@Override
	public void registerOutParameter(int parameterIndex, int sqlType, String typeName) throws SQLException {
		this.target.registerOutParameter(parameterIndex, sqlType, typeName);
	}

	@Override
	public void registerOutParameter(String parameterName, int sqlType) throws SQLException {
		this.target.registerOutParameter(parameterName, sqlType);
	}

	@Override
	public void registerOutParameter(String parameterName, int sqlType, int scale) throws SQLException {
		this.target.registerOutParameter(parameterName, sqlType, scale);
	}

	@Override
	public void registerOutParameter(String parameterName, int sqlType, String typeName) throws SQLException {
		this.target.registerOutParameter(parameterName, sqlType, typeName);
	}

	@Override
	public java.net.URL getURL(int parameterIndex) throws SQLException {
		return this.target.getURL(parameterIndex);
	}

	@Override
	public void setURL(String parameterName, java.net.URL val) throws SQLException {
		this.target.setURL(parameterName, val);
	}

	@Override
	public void setNull(String parameterName, int sqlType) throws SQLException {
		this.target.setNull(parameterName, sqlType);
	}

	@Override
	public void setBoolean(String parameterName, boolean x) throws SQLException {
		this.target.setBoolean(parameterName, x);
	}

	@Override
	public void setByte(String parameterName, byte x) throws SQLException {
		this.target.setByte(parameterName, x);
	}

	@Override
	public void setShort(String parameterName, short x) throws SQLException {
		this.target.setShort(parameterName, x);
	}

	@Override
	public void setInt(String parameterName, int x) throws SQLException {
		this.target.setInt(parameterName, x);
	}

	@Override
	public void setLong(String parameterName, long x) throws SQLException {
		this.target.setLong(parameterName, x);
	}

	@Override
	public void setFloat(String parameterName, float x) throws SQLException {
		this.target.setFloat(parameterName, x);
	}

	@Override
	public void setDouble(String parameterName, double x) throws SQLException {
		this.target.setDouble(parameterName, x);
	}

	@Override
	public void setBigDecimal(String parameterName, BigDecimal x) throws SQLException {
		this.target.setBigDecimal(parameterName, x);
	}

	@Override
	public void setString(String parameterName, String x) throws SQLException {
		this.target.setString(parameterName, x);
	}

	@Override
	public void setBytes(String parameterName, byte[] x) throws SQLException {
		this.target.setBytes(parameterName, x);
	}

	@Override
	public void setDate(String parameterName, java.sql.Date x) throws SQLException {
		this.target.setDate(parameterName, x);
	}

	@Override
	public void setTime(String parameterName, java.sql.Time x) throws SQLException {
		this.target.setTime(parameterName, x);
	}

	@Override
	public void setTimestamp(String parameterName, java.sql.Timestamp x) throws SQLException {
		this.target.setTimestamp(parameterName, x);
	}

	@Override
	public void setAsciiStream(String parameterName, java.io.InputStream x, int length) throws SQLException {
		this.target.setAsciiStream(parameterName, x, length);
	}

	@Override
	public void setBinaryStream(String parameterName, java.io.InputStream x, int length) throws SQLException {
		this.target.setBinaryStream(parameterName, x, length);
	}

	@Override
	public void setObject(String parameterName, Object x, int targetSqlType, int scale) throws SQLException {
		this.target.setObject(parameterName, x, targetSqlType, scale);
	}

	@Override
	public void setObject(String parameterName, Object x, int targetSqlType) throws SQLException {
		this.target.setObject(parameterName, x, targetSqlType);
	}

	@Override
	public void setObject(String parameterName, Object x) throws SQLException {
		this.target.setObject(parameterName, x);
	}

	@Override
	public void setCharacterStream(String parameterName, java.io.Reader reader, int length) throws SQLException {
		this.target.setCharacterStream(parameterName, reader, length);
	}

	@Override
	public void setDate(String parameterName, java.sql.Date x, Calendar cal) throws SQLException {
		this.target.setDate(parameterName, x, cal);
	}

	@Override
	public void setTime(String parameterName, java.sql.Time x, Calendar cal) throws SQLException {
		this.target.setTime(parameterName, x, cal);
	}

	@Override
	public void setTimestamp(String parameterName, java.sql.Timestamp x, Calendar cal) throws SQLException {
		this.target.setTimestamp(parameterName, x, cal);
	}

	@Override
	public void setNull(String parameterName, int sqlType, String typeName) throws SQLException {
		this.target.setNull(parameterName, sqlType, typeName);
	}

	@Override
	public String getString(String parameterName) throws SQLException {
		return this.target.getString(parameterName);
	}

	@Override
	public boolean getBoolean(String parameterName) throws SQLException {
		return this.target.getBoolean(parameterName);
	}

	@Override
	public byte getByte(String parameterName) throws SQLException {
		return this.target.getByte(parameterName);
	}

	@Override
	public short getShort(String parameterName) throws SQLException {
		return this.target.getShort(parameterName);
	}

	@Override
	public int getInt(String parameterName) throws SQLException {
		return this.target.getInt(parameterName);
	}

	@Override
	public long getLong(String parameterName) throws SQLException {
		return this.target.getLong(parameterName);
	}

	@Override
	public float getFloat(String parameterName) throws SQLException {
		return this.target.getFloat(parameterName);
	}

	@Override
	public double getDouble(String parameterName) throws SQLException {
		return this.target.getDouble(parameterName);
	}

	@Override
	public byte[] getBytes(String parameterName) throws SQLException {
		return this.target.getBytes(parameterName);
	}

	@Override
	public java.sql.Date getDate(String parameterName) throws SQLException {
		return this.target.getDate(parameterName);
	}

	@Override
	public java.sql.Time getTime(String parameterName) throws SQLException {
		return this.target.getTime(parameterName);
	}

	@Override
	public java.sql.Timestamp getTimestamp(String parameterName) throws SQLException {
		return this.target.getTimestamp(parameterName);
	}

	@Override
	public Object getObject(String parameterName) throws SQLException {
		return this.target.getObject(parameterName);
	}

	@Override
	public BigDecimal getBigDecimal(String parameterName) throws SQLException {
		return this.target.getBigDecimal(parameterName);
	}

	@Override
	public Object getObject(String parameterName, java.util.Map<String, Class<?>> map) throws SQLException {
		return this.target.getObject(parameterName, map);
	}

	@Override
	public Ref getRef(String parameterName) throws SQLException {
		return this.target.getRef(parameterName);
	}

	@Override
	public Blob getBlob(String parameterName) throws SQLException {
		return this.target.getBlob(parameterName);
	}

	@Override
	public Clob getClob(String parameterName) throws SQLException {
		return this.target.getClob(parameterName);
	}

	@Override
	public Array getArray(String parameterName) throws SQLException {
		return this.target.getArray(parameterName);
	}

	@Override
	public java.sql.Date getDate(String parameterName, Calendar cal) throws SQLException {
		return this.target.getDate(parameterName, cal);
	}

	@Override
	public java.sql.Time getTime(String parameterName, Calendar cal) throws SQLException {
		return this.target.getTime(parameterName, cal);
	}

	@Override
	public java.sql.Timestamp getTimestamp(String parameterName, Calendar cal) throws SQLException {
		return this.target.getTimestamp(parameterName, cal);
	}

	@Override
	public java.net.URL getURL(String parameterName) throws SQLException {
		return this.target.getURL(parameterName);
	}

	@Override
	public RowId getRowId(int parameterIndex) throws SQLException {
		return this.target.getRowId(parameterIndex);
	}

	@Override
	public RowId getRowId(String parameterName) throws SQLException {
		return this.target.getRowId(parameterName);
	}

	@Override
	public void setRowId(String parameterName, RowId x) throws SQLException {
		this.target.setRowId(parameterName, x);
	}

	@Override
	public void setNString(String parameterName, String value) throws SQLException {
		this.target.setNString(parameterName, value);
	}

	@Override
	public void setNCharacterStream(String parameterName, Reader value, long length) throws SQLException {
		this.target.setNCharacterStream(parameterName, value, length);
	}

	@Override
	public void setNClob(String parameterName, NClob value) throws SQLException {
		this.target.setNClob(parameterName, value);
	}

	@Override
	public void setClob(String parameterName, Reader reader, long length) throws SQLException {
		this.target.setClob(parameterName, reader, length);
	}

	@Override
	public void setBlob(String parameterName, InputStream inputStream, long length) throws SQLException {
		this.target.setBlob(parameterName, inputStream, length);
	}

	@Override
	public void setNClob(String parameterName, Reader reader, long length) throws SQLException {
		this.target.setNClob(parameterName, reader, length);
	}

	@Override
	public NClob getNClob(int parameterIndex) throws SQLException {
		return this.target.getNClob(parameterIndex);
	}

	@Override
	public NClob getNClob(String parameterName) throws SQLException {
		return this.target.getNClob(parameterName);
	}

	@Override
	public void setSQLXML(String parameterName, SQLXML xmlObject) throws SQLException {
		this.target.setSQLXML(parameterName, xmlObject);
	}

	@Override
	public SQLXML getSQLXML(int parameterIndex) throws SQLException {
		return this.target.getSQLXML(parameterIndex);
	}

	@Override
	public SQLXML getSQLXML(String parameterName) throws SQLException {
		return this.target.getSQLXML(parameterName);
	}

	@Override
	public String getNString(int parameterIndex) throws SQLException {
		return this.target.getNString(parameterIndex);
	}

	@Override
	public String getNString(String parameterName) throws SQLException {
		return this.target.getNString(parameterName);
	}

	@Override
	public java.io.Reader getNCharacterStream(int parameterIndex) throws SQLException {
		return this.target.getNCharacterStream(parameterIndex);
	}

	@Override
	public java.io.Reader getNCharacterStream(String parameterName) throws SQLException {
		return this.target.getNCharacterStream(parameterName);
	}

	@Override
	public java.io.Reader getCharacterStream(int parameterIndex) throws SQLException {
		return this.target.getCharacterStream(parameterIndex);
	}

	@Override
	public java.io.Reader getCharacterStream(String parameterName) throws SQLException {
		return this.target.getCharacterStream(parameterName);
	}

	@Override
	public void setBlob(String parameterName, Blob x) throws SQLException {
		this.target.setBlob(parameterName, x);
	}

	@Override
	public void setClob(String parameterName, Clob x) throws SQLException {
		this.target.setClob(parameterName, x);
	}

	@Override
	public void setAsciiStream(String parameterName, java.io.InputStream x, long length) throws SQLException {
		this.target.setAsciiStream(parameterName, x, length);
	}

	@Override
	public void setBinaryStream(String parameterName, java.io.InputStream x, long length) throws SQLException {
		this.target.setBinaryStream(parameterName, x, length);
	}

	@Override
	public void setCharacterStream(String parameterName, java.io.Reader reader, long length) throws SQLException {
		this.target.setCharacterStream(parameterName, reader, length);
	}

	@Override
	public void setAsciiStream(String parameterName, java.io.InputStream x) throws SQLException {
		this.target.setAsciiStream(parameterName, x);
	}

	@Override
	public void setBinaryStream(String parameterName, java.io.InputStream x) throws SQLException {
		this.target.setBinaryStream(parameterName, x);
	}

	@Override
	public void setCharacterStream(String parameterName, java.io.Reader reader) throws SQLException {
		this.target.setCharacterStream(parameterName, reader);
	}

	@Override
	public void setNCharacterStream(String parameterName, Reader value) throws SQLException {
		this.target.setNCharacterStream(parameterName, value);
	}

	@Override
	public void setClob(String parameterName, Reader reader) throws SQLException {
		this.target.setClob(parameterName, reader);
	}

	@Override
	public void setBlob(String parameterName, InputStream inputStream) throws SQLException {
		this.target.setBlob(parameterName, inputStream);
	}

	@Override
	public void setNClob(String parameterName, Reader reader) throws SQLException {
		this.target.setNClob(parameterName, reader);
	}

	@Override
	public <T> T getObject(int parameterIndex, Class<T> type) throws SQLException {
		return this.target.getObject(parameterIndex, type);
	}

	@Override
	public <T> T getObject(String parameterName, Class<T> type) throws SQLException {
		return this.target.getObject(parameterName, type);
	}

	@Override
	public void setObject(String parameterName, Object x, SQLType targetSqlType, int scaleOrLength) throws SQLException {
		this.target.setObject(parameterName, x, targetSqlType, scaleOrLength);
	}

	@Override
	public void setObject(String parameterName, Object x, SQLType targetSqlType) throws SQLException {
		this.target.setObject(parameterName, x, targetSqlType);
	}

	@Override
	public void registerOutParameter(int parameterIndex, SQLType sqlType) throws SQLException {
		this.target.registerOutParameter(parameterIndex, sqlType);
	}

	@Override
	public void registerOutParameter(int parameterIndex, SQLType sqlType, int scale) throws SQLException {
		this.target.registerOutParameter(parameterIndex, sqlType, scale);
	}

	@Override
	public void registerOutParameter(int parameterIndex, SQLType sqlType, String typeName) throws SQLException {
		this.target.registerOutParameter(parameterIndex, sqlType, typeName);
	}

	@Override
	public void registerOutParameter(String parameterName, SQLType sqlType) throws SQLException {
		this.target.registerOutParameter(parameterName, sqlType);
	}

	@Override
	public void registerOutParameter(String parameterName, SQLType sqlType, int scale) throws SQLException {
		this.target.registerOutParameter(parameterName, sqlType, scale);
	}

	@Override
	public void registerOutParameter(String parameterName, SQLType sqlType, String typeName) throws SQLException {
		this.target.registerOutParameter(parameterName, sqlType, typeName);
	}

}
