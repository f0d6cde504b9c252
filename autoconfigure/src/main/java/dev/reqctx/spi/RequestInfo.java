package dev.reqctx.spi;

/**
 * The label of a {@link ContextKind#REQUEST} context: what the live tree shows for a request.
 *
 * @param method the HTTP method
 * @param path the request path, without the query string
 */
public record RequestInfo(String method, String path) {

	@Override
	public String toString() {
		return this.method + " " + this.path;
	}

}
