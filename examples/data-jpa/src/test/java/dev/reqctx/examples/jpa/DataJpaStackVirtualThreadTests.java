package dev.reqctx.examples.jpa;

import org.junit.jupiter.api.Tag;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;

/**
 * {@link DataJpaStackTests} with Tomcat serving requests on virtual threads (JDK 21+): the
 * stack of a virtual thread parked in the driver, read from its continuation, folds the same
 * way, with the transactional proxies and Spring Data's interceptors around the application's
 * frames.
 */
@Tag("jdk21")
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "server.address=127.0.0.1", "spring.threads.virtual.enabled=true" })
class DataJpaStackVirtualThreadTests extends DataJpaStackTests {

	@Override
	boolean virtualThreads() {
		return true;
	}

}
