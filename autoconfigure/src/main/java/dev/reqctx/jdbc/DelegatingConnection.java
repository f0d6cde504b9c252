package dev.reqctx.jdbc;

import java.sql.Array;
import java.sql.Blob;
import java.sql.Clob;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.NClob;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.SQLXML;
import java.sql.Savepoint;
import java.sql.ShardingKey;
import java.sql.Struct;
import java.util.Properties;
import java.util.concurrent.Executor;

/**
 * Plain delegation of every {@link Connection} method that {@link ContextConnection} leaves
 * alone, kept apart so that what the wrapper does is all there is to read there. Nothing here
 * may do more than call the target.
 */
abstract class DelegatingConnection extends DelegatingWrapper<Connection> implements Connection {

	DelegatingConnection(Connection target) {
		super(target);
	}

	@Override
	public String nativeSQL(String sql) throws SQLException {
		return this.target.nativeSQL(sql);
	}

	@Override
	public void setAutoCommit(boolean autoCommit) throws SQLException {
		this.target.setAutoCommit(autoCommit);
	}

	@Override
	public boolean getAutoCommit() throws SQLException {
		return this.target.getAutoCommit();
	}

	@Override
	public void commit() throws SQLException {
		this.target.commit();
	}

	@Override
	public void rollback() throws SQLException {
		this.target.rollback();
	}

	@Override
	public boolean isClosed() throws SQLException {
		return this.target.isClosed();
	}

	@Override
	public DatabaseMetaData getMetaData() throws SQLException {
		return this.target.getMetaData();
	}

	@Override
	public void setReadOnly(boolean readOnly) throws SQLException {
		this.target.setReadOnly(readOnly);
	}

	@Override
	public boolean isReadOnly() throws SQLException {
		return this.target.isReadOnly();
	}

	@Override
	public void setCatalog(String catalog) throws SQLException {
		this.target.setCatalog(catalog);
	}

	@Override
	public String getCatalog() throws SQLException {
		return this.target.getCatalog();
	}

	@Override
	public void setTransactionIsolation(int level) throws SQLException {
		this.target.setTransactionIsolation(level);
	}

	@Override
	public int getTransactionIsolation() throws SQLException {
		return this.target.getTransactionIsolation();
	}

	@Override
	public SQLWarning getWarnings() throws SQLException {
		return this.target.getWarnings();
	}

	@Override
	public void clearWarnings() throws SQLException {
		this.target.clearWarnings();
	}

	@Override
	public java.util.Map<String, Class<?>> getTypeMap() throws SQLException {
		return this.target.getTypeMap();
	}

	@Override
	public void setTypeMap(java.util.Map<String, Class<?>> map) throws SQLException {
		this.target.setTypeMap(map);
	}

	@Override
	public void setHoldability(int holdability) throws SQLException {
		this.target.setHoldability(holdability);
	}

	@Override
	public int getHoldability() throws SQLException {
		return this.target.getHoldability();
	}

	@Override
	public Savepoint setSavepoint() throws SQLException {
		return this.target.setSavepoint();
	}

	@Override
	public Savepoint setSavepoint(String name) throws SQLException {
		return this.target.setSavepoint(name);
	}

	@Override
	public void rollback(Savepoint savepoint) throws SQLException {
		this.target.rollback(savepoint);
	}

	@Override
	public void releaseSavepoint(Savepoint savepoint) throws SQLException {
		this.target.releaseSavepoint(savepoint);
	}

	@Override
	public Clob createClob() throws SQLException {
		return this.target.createClob();
	}

	@Override
	public Blob createBlob() throws SQLException {
		return this.target.createBlob();
	}

	@Override
	public NClob createNClob() throws SQLException {
		return this.target.createNClob();
	}

	@Override
	public SQLXML createSQLXML() throws SQLException {
		return this.target.createSQLXML();
	}

	@Override
	public boolean isValid(int timeout) throws SQLException {
		return this.target.isValid(timeout);
	}

	@Override
	public void setClientInfo(String name, String value) throws SQLClientInfoException {
		this.target.setClientInfo(name, value);
	}

	@Override
	public void setClientInfo(Properties properties) throws SQLClientInfoException {
		this.target.setClientInfo(properties);
	}

	@Override
	public String getClientInfo(String name) throws SQLException {
		return this.target.getClientInfo(name);
	}

	@Override
	public Properties getClientInfo() throws SQLException {
		return this.target.getClientInfo();
	}

	@Override
	public Array createArrayOf(String typeName, Object[] elements) throws SQLException {
		return this.target.createArrayOf(typeName, elements);
	}

	@Override
	public Struct createStruct(String typeName, Object[] attributes) throws SQLException {
		return this.target.createStruct(typeName, attributes);
	}

	@Override
	public void setSchema(String schema) throws SQLException {
		this.target.setSchema(schema);
	}

	@Override
	public String getSchema() throws SQLException {
		return this.target.getSchema();
	}

	@Override
	public void abort(Executor executor) throws SQLException {
		this.target.abort(executor);
	}

	@Override
	public void setNetworkTimeout(Executor executor, int milliseconds) throws SQLException {
		this.target.setNetworkTimeout(executor, milliseconds);
	}

	@Override
	public int getNetworkTimeout() throws SQLException {
		return this.target.getNetworkTimeout();
	}

	@Override
	public void beginRequest() throws SQLException {
		this.target.beginRequest();
	}

	@Override
	public void endRequest() throws SQLException {
		this.target.endRequest();
	}

	@Override
	public boolean setShardingKeyIfValid(ShardingKey shardingKey, ShardingKey superShardingKey, int timeout) throws SQLException {
		return this.target.setShardingKeyIfValid(shardingKey, superShardingKey, timeout);
	}

	@Override
	public boolean setShardingKeyIfValid(ShardingKey shardingKey, int timeout) throws SQLException {
		return this.target.setShardingKeyIfValid(shardingKey, timeout);
	}

	@Override
	public void setShardingKey(ShardingKey shardingKey, ShardingKey superShardingKey) throws SQLException {
		this.target.setShardingKey(shardingKey, superShardingKey);
	}

	@Override
	public void setShardingKey(ShardingKey shardingKey) throws SQLException {
		this.target.setShardingKey(shardingKey);
	}

}
