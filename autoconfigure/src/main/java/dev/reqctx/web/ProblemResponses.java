package dev.reqctx.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import dev.reqctx.CancellationCause;
import dev.reqctx.ContextCancelledException;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Writes RFC 9457 {@code application/problem+json} answers for cancelled requests and bad
 * budget headers. The JSON is written by hand: the fields are few and known, and the web
 * integration should not depend on a JSON library.
 */
final class ProblemResponses {

	static final String CONTENT_TYPE = "application/problem+json";

	private ProblemResponses() {
	}

	/** 504 for an exceeded deadline, 503 for every other cause. */
	static int statusFor(CancellationCause cause) {
		return CancelledRequestException.statusFor(cause).value();
	}

	/** The detail of a cancellation's problem when the application's messages say nothing else. */
	static String detailFor(CancellationCause cause) {
		if (cause == CancellationCause.DEADLINE_EXCEEDED) {
			return "The request's deadline passed before it finished.";
		}
		if (cause == CancellationCause.SHUTDOWN) {
			return "The service is shutting down and the request could not finish in time; retry it.";
		}
		return "The request was cancelled (" + cause + ") before it finished.";
	}

	static void writeCancelled(HttpServletResponse response, ContextCancelledException ex, String requestId,
			String traceId) throws IOException {
		int status = statusFor(ex.getCancellationCause());
		String title = (status == 504) ? "Gateway Timeout" : "Service Unavailable";
		String detail = detailFor(ex.getCancellationCause());
		StringBuilder json = new StringBuilder(256);
		json.append("{\"type\":\"about:blank\",\"title\":\"").append(title).append("\",\"status\":").append(status);
		json.append(",\"detail\":\"").append(detail).append('"');
		json.append(",\"contextId\":");
		string(json, ex.getContextId());
		json.append(",\"requestId\":");
		string(json, requestId);
		if (traceId != null) {
			json.append(",\"traceId\":");
			string(json, traceId);
		}
		json.append(",\"cause\":\"").append(ex.getCancellationCause()).append('"');
		json.append(",\"elapsedMs\":").append(ex.getElapsedMillis()).append('}');
		write(response, status, json);
	}

	static void writeBadBudget(HttpServletResponse response, String header, InboundBudget.Reason reason,
			String requestId) throws IOException {
		StringBuilder json = new StringBuilder(256);
		json.append("{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,\"detail\":");
		string(json, "Header " + header + " " + reason.description
				+ " (a non-negative whole number of milliseconds, sent once).");
		json.append(",\"requestId\":");
		string(json, requestId);
		json.append(",\"reason\":\"").append(reason.tag).append("\"}");
		write(response, 400, json);
	}

	private static void write(HttpServletResponse response, int status, StringBuilder json) throws IOException {
		response.resetBuffer();
		response.setStatus(status);
		response.setContentType(CONTENT_TYPE);
		byte[] body = json.toString().getBytes(StandardCharsets.UTF_8);
		response.setContentLength(body.length);
		response.getOutputStream().write(body);
		response.flushBuffer();
	}

	/** Appends a JSON string; the inputs are ids and fixed texts, but escape anyway. */
	private static void string(StringBuilder json, String value) {
		if (value == null) {
			json.append("null");
			return;
		}
		json.append('"');
		for (int i = 0; i < value.length(); i++) {
			char c = value.charAt(i);
			switch (c) {
				case '"' -> json.append("\\\"");
				case '\\' -> json.append("\\\\");
				default -> {
					if (c < 0x20) {
						json.append(String.format("\\u%04x", (int) c));
					}
					else {
						json.append(c);
					}
				}
			}
		}
		json.append('"');
	}

}
