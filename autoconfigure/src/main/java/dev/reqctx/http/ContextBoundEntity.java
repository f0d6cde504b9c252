package dev.reqctx.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Set;

import dev.reqctx.Registration;
import org.apache.hc.core5.function.Supplier;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;

/**
 * An Apache HttpClient response entity that keeps {@link ContextCancellingExecHandler}'s cancel
 * registration until its content has been read to the end or closed, so that a cancel while
 * the caller reads the body shuts the connection down, as it does while the response is awaited.
 *
 * <p>It is its own content stream (one object per response): {@link #getContent()} returns
 * this entity, reading the wrapped entity's stream. Closing it closes that stream, which
 * consumes what is left of the body to keep the connection: the registration stays until the
 * close returns, so a cancel cuts an endless body short.
 */
final class ContextBoundEntity extends InputStream implements HttpEntity {

	private final HttpEntity entity;

	private final Registration registration;

	private InputStream content;

	ContextBoundEntity(HttpEntity entity, Registration registration) {
		this.entity = entity;
		this.registration = registration;
	}

	@Override
	public InputStream getContent() throws IOException {
		if (this.content == null) {
			try {
				this.content = this.entity.getContent();
			}
			catch (IOException | RuntimeException ex) {
				this.registration.remove();
				throw ex;
			}
			if (this.content == null) {
				this.registration.remove();
				return null;
			}
		}
		return this;
	}

	@Override
	public int read() throws IOException {
		try {
			return ended(this.content.read());
		}
		catch (IOException | RuntimeException ex) {
			this.registration.remove();
			throw ex;
		}
	}

	@Override
	public int read(byte[] bytes, int off, int len) throws IOException {
		try {
			return ended(this.content.read(bytes, off, len));
		}
		catch (IOException | RuntimeException ex) {
			this.registration.remove();
			throw ex;
		}
	}

	private int ended(int result) {
		if (result < 0) {
			this.registration.remove();
		}
		return result;
	}

	@Override
	public long skip(long n) throws IOException {
		return this.content.skip(n);
	}

	@Override
	public int available() throws IOException {
		return this.content.available();
	}

	/** Closes the content stream, or the entity if its content was never asked for. */
	@Override
	public void close() throws IOException {
		try {
			if (this.content != null) {
				this.content.close();
			}
			else {
				this.entity.close();
			}
		}
		finally {
			this.registration.remove();
		}
	}

	@Override
	public void writeTo(OutputStream out) throws IOException {
		try {
			this.entity.writeTo(out);
		}
		finally {
			this.registration.remove();
		}
	}

	@Override
	public boolean isRepeatable() {
		return false;
	}

	@Override
	public boolean isStreaming() {
		return this.entity.isStreaming();
	}

	@Override
	public Supplier<List<? extends Header>> getTrailers() {
		return this.entity.getTrailers();
	}

	@Override
	public long getContentLength() {
		return this.entity.getContentLength();
	}

	@Override
	public String getContentType() {
		return this.entity.getContentType();
	}

	@Override
	public String getContentEncoding() {
		return this.entity.getContentEncoding();
	}

	@Override
	public boolean isChunked() {
		return this.entity.isChunked();
	}

	@Override
	public Set<String> getTrailerNames() {
		return this.entity.getTrailerNames();
	}

	@Override
	public String toString() {
		return "ContextBoundEntity[" + this.entity + "]";
	}

}
