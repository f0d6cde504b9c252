package dev.reqctx.http;

import dev.reqctx.testsupport.OnVirtualThreads;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link ResponseBodyCancellationTests} with every call made on a virtual thread (JDK 21+; tag
 * {@code jdk21}, run in the JDK 25 Surefire execution).
 */
@Tag("jdk21")
@ExtendWith(OnVirtualThreads.class)
class ResponseBodyCancellationVirtualThreadTests extends ResponseBodyCancellationTests {

}
