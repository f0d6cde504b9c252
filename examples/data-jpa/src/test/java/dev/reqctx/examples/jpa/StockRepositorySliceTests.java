package dev.reqctx.examples.jpa;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

import dev.reqctx.ContextCancelledException;
import dev.reqctx.test.NoContextLeaks;
import dev.reqctx.test.WithDeadline;
import dev.reqctx.testsupport.PostgresServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.data.jpa.test.autoconfigure.DataJpaTest;
import org.springframework.boot.jdbc.test.autoconfigure.AutoConfigureTestDatabase;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * reqctx in Boot's {@code @DataJpaTest} slice, with reqctx-test: a repository call that waits
 * on a row lock is cancelled on PostgreSQL at the test's own deadline ({@link WithDeadline}).
 */
@DataJpaTest
@AutoConfigureTestDatabase(replace = AutoConfigureTestDatabase.Replace.NONE)
@Transactional(propagation = Propagation.NOT_SUPPORTED) // the lock holder must see the row
@NoContextLeaks
class StockRepositorySliceTests {

	private static final String LOCKING_SELECT = "%from stock%for no key update%";

	@DynamicPropertySource
	static void postgres(DynamicPropertyRegistry registry) {
		PostgresServer.registerDataSource(registry);
	}

	final PostgresServer postgres = PostgresServer.get();

	@Autowired
	StockRepository stock;

	@Autowired
	PlatformTransactionManager transactions;

	Connection lockHolder;

	long articleId;

	@BeforeEach
	void lockTheArticlesRow() throws SQLException {
		this.stock.deleteAll();
		this.articleId = this.stock.save(new Stock("sku-slice", 3)).getId();
		this.lockHolder = this.postgres.connect();
		this.lockHolder.setAutoCommit(false);
		try (PreparedStatement lock = this.lockHolder.prepareStatement("select 1 from stock where id = ? for update")) {
			lock.setLong(1, this.articleId);
			try (ResultSet row = lock.executeQuery()) {
				assertThat(row.next()).isTrue();
			}
		}
	}

	@AfterEach
	void releaseTheLock() throws SQLException {
		this.lockHolder.rollback();
		this.lockHolder.close();
		this.stock.deleteAll();
	}

	@Test
	@WithDeadline(500)
	void aLockWaitIsCancelledAtTheTestsDeadline() {
		long start = System.nanoTime();
		Throwable failure = catchThrowable(() -> new TransactionTemplate(this.transactions)
			.execute((status) -> this.stock.findById(this.articleId)));
		assertThat(Duration.ofNanos(System.nanoTime() - start)).as("stopped at the 500 ms deadline, not by the lock")
			.isLessThan(Duration.ofSeconds(5));
		assertThat(failure).as("the repository call failed because the test's context was cancelled")
			.hasStackTraceContaining(ContextCancelledException.class.getSimpleName());
		assertThat(this.postgres.awaitNoActive(LOCKING_SELECT, Duration.ofSeconds(5)))
			.as("the locking select is gone from pg_stat_activity").isTrue();
	}

}
