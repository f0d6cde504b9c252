package dev.reqctx.testsupport;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.awaitility.Awaitility;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A small HTTP client for tests that talk to a real server over a real socket.
 */
public final class TestHttp {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private final HttpClient client = HttpClient.newBuilder()
		.connectTimeout(Duration.ofSeconds(5))
		.version(HttpClient.Version.HTTP_1_1)
		.build();

	private final String base;

	public TestHttp(int port) {
		this.base = "http://127.0.0.1:" + port;
	}

	public Response get(String path, String... headers) {
		return send(request(path, headers).GET().build());
	}

	public Response post(String path, String... headers) {
		return send(request(path, headers).POST(HttpRequest.BodyPublishers.noBody()).build());
	}

	public CompletableFuture<Response> getAsync(String path, String... headers) {
		return this.client.sendAsync(request(path, headers).GET().build(), HttpResponse.BodyHandlers.ofString())
			.thenApply(Response::new);
	}

	public CompletableFuture<Response> postAsync(String path, String... headers) {
		return this.client
			.sendAsync(request(path, headers).POST(HttpRequest.BodyPublishers.noBody()).build(),
					HttpResponse.BodyHandlers.ofString())
			.thenApply(Response::new);
	}

	/**
	 * Polls the application's live tree until a request with this request id shows (it may not
	 * have reached the filter yet) and returns its context id.
	 * @param requestId the request's {@code X-Request-Id}
	 * @return the id of its context
	 */
	public String awaitContextId(String requestId) {
		Pattern pattern = Pattern.compile("\"id\":\"([0-9a-f]+)\"[^{}]*\"requestId\":\"" + Pattern.quote(requestId) + "\"");
		return Awaitility.await(requestId + " listed")
			.atMost(Duration.ofSeconds(5))
			.pollInterval(Duration.ofMillis(5))
			.until(() -> {
				Matcher matcher = pattern.matcher(get("/actuator/requestcontexts").body());
				return matcher.find() ? matcher.group(1) : null;
			}, Objects::nonNull);
	}

	private HttpRequest.Builder request(String path, String... headers) {
		HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(this.base + path)).timeout(Duration.ofSeconds(30));
		for (int i = 0; i < headers.length; i += 2) {
			builder.header(headers[i], headers[i + 1]);
		}
		return builder;
	}

	private Response send(HttpRequest request) {
		try {
			return new Response(this.client.send(request, HttpResponse.BodyHandlers.ofString()));
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	/** A response with its body read. */
	public static final class Response {

		private final HttpResponse<String> response;

		Response(HttpResponse<String> response) {
			this.response = response;
		}

		public int status() {
			return this.response.statusCode();
		}

		public String header(String name) {
			return this.response.headers().firstValue(name).orElse(null);
		}

		public String body() {
			return this.response.body();
		}

		public JsonNode json() {
			return JSON.readTree(this.response.body());
		}

		@Override
		public String toString() {
			return this.response.statusCode() + " " + this.response.body();
		}

	}

}
