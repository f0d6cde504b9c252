package dev.reqctx.benchmarks.load;

import java.io.IOException;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;

import org.springframework.core.Ordered;

/**
 * A servlet filter that does nothing, at reqctx's filter's position in the chain: the control
 * for {@code wrk-variants.sh}, to tell what any extra filter costs from what reqctx's work
 * costs. Added to the sample with {@code --spring.main.sources=dev.reqctx.benchmarks.load.NoopFilter}
 * (Spring Boot registers a {@link Filter} bean for every request, in its {@link Ordered} order).
 */
public final class NoopFilter implements Filter, Ordered {

	@Override
	public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
			throws IOException, ServletException {
		chain.doFilter(request, response);
	}

	@Override
	public int getOrder() {
		return Ordered.HIGHEST_PRECEDENCE + 2;
	}

}
