package dev.reqctx.web;

import java.util.Map;

import dev.reqctx.DeadlineExceededException;
import dev.reqctx.RequestContext;
import dev.reqctx.testsupport.AwaitCancel;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Profile;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/**
 * An application with the error handling real applications have, one kind per profile: a
 * catch-all {@code @ExceptionHandler(Exception.class)}, a handler for reqctx's own exception,
 * and a {@code ResponseEntityExceptionHandler}.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({ ErrorHandlingTestApplication.WorkController.class, ErrorHandlingTestApplication.CatchAll.class,
		ErrorHandlingTestApplication.DeadlineHandler.class, ErrorHandlingTestApplication.ProblemHandler.class })
public class ErrorHandlingTestApplication {

	@RestController
	static class WorkController {

		/** Work that fails with the context's exception once its deadline passes or it is cancelled. */
		@GetMapping("/work")
		Map<String, Object> work() throws InterruptedException {
			AwaitCancel.thenThrow(RequestContext.current());
			return Map.of();
		}

	}

	/** The catch-all many applications have: it must never hide a deadline. */
	@Profile("catch-all")
	@RestControllerAdvice
	static class CatchAll {

		@ExceptionHandler(Exception.class)
		ResponseEntity<String> anything(Exception ex) {
			return ResponseEntity.status(500).body("catch-all: " + ex.getClass().getSimpleName());
		}

	}

	/** A handler the application wrote for reqctx's exception: it is the one that answers. */
	@Profile("deadline-handler")
	@RestControllerAdvice
	static class DeadlineHandler {

		@ExceptionHandler(DeadlineExceededException.class)
		ResponseEntity<Map<String, Object>> deadline(DeadlineExceededException ex) {
			return ResponseEntity.status(504).body(Map.of("handledBy", "application", "context", ex.getContextId()));
		}

		@ExceptionHandler(Exception.class)
		ResponseEntity<String> anything(Exception ex) {
			return ResponseEntity.status(500).body("catch-all");
		}

	}

	/** The application's ResponseEntityExceptionHandler: it renders reqctx's error response too. */
	@Profile("problem-handler")
	@RestControllerAdvice
	static class ProblemHandler extends ResponseEntityExceptionHandler {

		@Override
		protected ResponseEntity<Object> createResponseEntity(Object body, HttpHeaders headers,
				HttpStatusCode statusCode, WebRequest request) {
			HttpHeaders marked = new HttpHeaders(headers);
			marked.add("X-Handled-By", "application-problem-handler");
			return super.createResponseEntity(body, marked, statusCode, request);
		}

	}

}
