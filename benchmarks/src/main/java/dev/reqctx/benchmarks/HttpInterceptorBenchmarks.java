package dev.reqctx.benchmarks;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dev.reqctx.CancellableContext;
import dev.reqctx.RequestContext;
import dev.reqctx.Scope;
import dev.reqctx.http.ContextPropagatingInterceptor;
import dev.reqctx.http.ReqctxHttp;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.client.ClientHttpRequestExecution;
import org.springframework.http.client.ClientHttpResponse;
import org.springframework.mock.http.client.MockClientHttpRequest;

/**
 * What {@link ContextPropagatingInterceptor} costs per call under a cancellable context, around
 * a request execution that answers at once with a small in-memory response: fail-fast check,
 * headers, the live-tree operation and its cancel action, and (since the body is guarded) the
 * wrapped response and body stream. {@code bodiless} closes the response without reading it;
 * {@code readBody} reads its 512 bytes to the end in 128-byte reads, then closes it. Compare
 * two builds with {@code benchmarks/scripts/jmh-ab.sh}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@State(org.openjdk.jmh.annotations.Scope.Thread)
public class HttpInterceptorBenchmarks {

	private static final byte[] BODY = new byte[512];

	private final ContextPropagatingInterceptor interceptor = ReqctxHttp.interceptor();

	private final MockClientHttpRequest request = new MockClientHttpRequest(HttpMethod.GET,
			URI.create("http://127.0.0.1:8080/orders/7"));

	private final ClientHttpRequestExecution execution = (request, body) -> new InMemoryResponse();

	private final byte[] buffer = new byte[128];

	private CancellableContext context;

	@Setup(Level.Trial)
	public void setUp() {
		this.context = RequestContext.root().withTimeout(Duration.ofMinutes(10));
	}

	@TearDown(Level.Trial)
	public void tearDown() {
		this.context.close();
	}

	@Benchmark
	public int bodiless() throws IOException {
		try (Scope scope = this.context.attach()) {
			ClientHttpResponse response = this.interceptor.intercept(this.request, BODY, this.execution);
			int status = response.getStatusCode().value();
			response.close();
			return status;
		}
	}

	@Benchmark
	public int readBody() throws IOException {
		try (Scope scope = this.context.attach()) {
			ClientHttpResponse response = this.interceptor.intercept(this.request, BODY, this.execution);
			int total = 0;
			try (InputStream in = response.getBody()) {
				for (int n = in.read(this.buffer); n >= 0; n = in.read(this.buffer)) {
					total += n;
				}
			}
			response.close();
			return total;
		}
	}

	/** A response as small as a request factory's: status, empty headers, a body in memory. */
	static final class InMemoryResponse implements ClientHttpResponse {

		private final InputStream body = new ByteArrayInputStream(BODY);

		@Override
		public HttpStatusCode getStatusCode() {
			return HttpStatus.OK;
		}

		@Override
		public String getStatusText() {
			return "OK";
		}

		@Override
		public HttpHeaders getHeaders() {
			return HttpHeaders.EMPTY;
		}

		@Override
		public InputStream getBody() {
			return this.body;
		}

		@Override
		public void close() {
		}

	}

}
