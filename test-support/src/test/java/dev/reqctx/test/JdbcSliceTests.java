package dev.reqctx.test;

import java.time.Duration;

import dev.reqctx.ContextKind;
import dev.reqctx.ContextRuntime;
import dev.reqctx.DeadlineExceededException;
import dev.reqctx.RequestContext;
import dev.reqctx.jdbc.ContextCancelledSQLException;
import dev.reqctx.testsupport.PostgresServer;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.jdbc.test.autoconfigure.AutoConfigureTestDatabase;
import org.springframework.boot.jdbc.test.autoconfigure.JdbcTest;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * reqctx in Boot's {@code @JdbcTest} slice, on a real PostgreSQL: a test run under
 * {@link WithDeadline} has its statement cancelled on the server at the deadline.
 */
@JdbcTest(properties = "spring.application.name=jdbc-slice-tests")
@AutoConfigureTestDatabase(replace = AutoConfigureTestDatabase.Replace.NONE)
@NoContextLeaks
class JdbcSliceTests {

	private final PostgresServer postgres = PostgresServer.get();

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	ContextRuntime runtime;

	@DynamicPropertySource
	static void postgres(DynamicPropertyRegistry registry) {
		PostgresServer.registerDataSource(registry);
	}

	@Test
	@WithDeadline(300)
	void cancelsTheTestsStatementAtItsDeadline() {
		assertThat(this.runtime.live().find(RequestContext.current().id()))
			.as("the test's unit of work is the application's").isNotNull()
			.satisfies((ctx) -> assertThat(ctx.kind()).isEqualTo(ContextKind.WORK));
		long start = System.nanoTime();
		assertThatExceptionOfType(DataAccessException.class)
			.isThrownBy(() -> this.jdbc.queryForObject("select pg_sleep(30) /* jdbc-slice */", String.class))
			.withCauseInstanceOf(ContextCancelledSQLException.class)
			.satisfies((ex) -> assertThat(ex.getCause().getCause()).isInstanceOf(DeadlineExceededException.class));
		assertThat(Duration.ofNanos(System.nanoTime() - start)).as("stopped at the deadline, not after 30 s")
			.isLessThan(Duration.ofSeconds(10));
		assertThat(this.postgres.awaitNoActive("%jdbc-slice%", Duration.ofSeconds(5)))
			.as("the statement is gone from pg_stat_activity").isTrue();
	}

}
