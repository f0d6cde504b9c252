package dev.reqctx.examples.secured;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.reqctx.RequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.actuate.audit.AuditEventRepository;
import org.springframework.boot.actuate.audit.InMemoryAuditEventRepository;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * An application whose {@code requestcontexts} endpoint lets operators cancel requests, with
 * the cancel behind Spring Security and every cancel in the audit trail.
 */
@SpringBootApplication
public class SecuredEndpointApplication {

	public static void main(String[] args) {
		SpringApplication.run(SecuredEndpointApplication.class, args);
	}

	/** Keeping audit events is what makes reqctx publish one per operator cancel. */
	@Bean
	AuditEventRepository auditEventRepository() {
		return new InMemoryAuditEventRepository();
	}

	@RestController
	static class WorkController {

		private static final Logger LOGGER = LoggerFactory.getLogger(WorkController.class);

		/** Work that runs until its request's context is cancelled (or its deadline passes). */
		@GetMapping("/work")
		Map<String, Object> work() throws InterruptedException {
			RequestContext ctx = RequestContext.current();
			LOGGER.info("Working until cancelled");
			CountDownLatch cancelled = new CountDownLatch(1);
			ctx.onCancel(cancelled::countDown);
			cancelled.await(1, TimeUnit.MINUTES);
			ctx.throwIfCancelled();
			return Map.of("id", ctx.id());
		}

	}

}
