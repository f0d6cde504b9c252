package dev.reqctx.logging;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import dev.reqctx.RequestContext;
import dev.reqctx.testsupport.AwaitCancel;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.MDC;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.Ordered;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.stereotype.Service;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A web application for tests of the logging MDC: handlers that report the MDC they see, fail,
 * run out of time, go async and start {@code @Async} tasks, and a probe filter around the
 * reqctx filter that checks every dispatch leaves the thread's MDC exactly as it found it.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@EnableAsync
@Import({ MdcTestApplication.Worker.class, MdcTestApplication.MdcController.class })
class MdcTestApplication {

	/** What the probe saw of one dispatch. */
	record Dispatch(String requestId, DispatcherType type, Map<String, String> before, Map<String, String> after) {
	}

	static final BlockingQueue<Dispatch> dispatches = new LinkedBlockingQueue<>();

	/** The MDC values the probe sets before each dispatch, as an application's own filter might. */
	static final Map<String, String> OUTER = Map.of(MdcContextBinder.REQUEST_ID, "outer-request",
			MdcContextBinder.TRACE_ID, "outer-trace", "app.user", "alice");

	@Bean
	FilterRegistrationBean<Filter> mdcProbe() {
		Filter probe = (ServletRequest request, ServletResponse response, FilterChain chain) -> {
			Map<String, String> before = copy();
			OUTER.forEach(MDC::put);
			try {
				chain.doFilter(request, response);
			}
			finally {
				Map<String, String> after = copy();
				OUTER.keySet().forEach(MDC::remove);
				HttpServletRequest http = (HttpServletRequest) request;
				dispatches.add(new Dispatch(http.getHeader("X-Request-Id"), request.getDispatcherType(), before, after));
			}
		};
		FilterRegistrationBean<Filter> registration = new FilterRegistrationBean<>(probe);
		registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
		registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR);
		return registration;
	}

	static Map<String, String> copy() {
		Map<String, String> map = MDC.getCopyOfContextMap();
		return (map != null) ? new TreeMap<>(map) : new TreeMap<>();
	}

	@Service
	static class Worker {

		@Async
		public CompletableFuture<Map<String, String>> mdc() {
			return CompletableFuture.completedFuture(copy());
		}

		/** Outlives its request until the request's end cancels it. */
		@Async
		public void outlive(CountDownLatch started) throws InterruptedException {
			CountDownLatch cancelled = new CountDownLatch(1);
			RequestContext.current().onCancel(cancelled::countDown);
			started.countDown();
			cancelled.await(20, TimeUnit.SECONDS);
		}

	}

	@RestController
	@RequestMapping("/mdc")
	static class MdcController {

		private final Worker worker;

		MdcController(Worker worker) {
			this.worker = worker;
		}

		@GetMapping("/echo")
		Map<String, String> echo() {
			return copy();
		}

		@GetMapping("/boom")
		String boom() throws IOException {
			throw new IOException("boom");
		}

		@GetMapping("/await-cancel")
		String awaitCancel() throws InterruptedException {
			RequestContext ctx = RequestContext.current();
			AwaitCancel.thenThrow(ctx);
			return "not cancelled";
		}

		@GetMapping("/callable")
		Callable<Map<String, String>> callable() {
			return MdcTestApplication::copy;
		}

		@GetMapping("/orphan")
		String orphan() throws InterruptedException {
			CountDownLatch started = new CountDownLatch(1);
			this.worker.outlive(started);
			started.await(10, TimeUnit.SECONDS);
			return "left a task behind";
		}

		@GetMapping("/task")
		Map<String, Object> task() {
			Map<String, Object> body = new HashMap<>();
			body.put("handler", copy());
			body.put("task", this.worker.mdc().join());
			return body;
		}

	}

}
