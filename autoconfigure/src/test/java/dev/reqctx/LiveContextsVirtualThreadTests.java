package dev.reqctx;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import dev.reqctx.spi.Contexts;
import dev.reqctx.testsupport.OnVirtualThreads;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Virtual threads (JDK 21+) get no home in {@link LiveContexts}: one each would grow the list
 * of homes by one per request. Their roots go to the stripes and are listed like any other.
 */
@Tag("jdk21")
class LiveContextsVirtualThreadTests {

	@Test
	void rootsStartedOnVirtualThreadsGoToTheStripesAndAddNoHome() throws Exception {
		ContextRuntime runtime = new ContextRuntime("virtual", 16, false);
		ThreadFactory factory = OnVirtualThreads.factory();
		int before = LiveContexts.Home.all.length;
		List<CancellableContext> roots = new ArrayList<>();
		for (int i = 0; i < 200; i++) {
			CancellableContext[] started = new CancellableContext[1];
			Thread thread = factory.newThread(() -> started[0] = Contexts.newLiveRoot(runtime, RequestContext.root(),
					ContextKind.REQUEST, "virtual", 30, TimeUnit.SECONDS));
			thread.start();
			thread.join(10_000);
			roots.add(started[0]);
		}
		try {
			assertThat(roots).allMatch((root) -> root != null && root.home == null);
			assertThat(runtime.live().list()).containsExactlyInAnyOrderElementsOf(roots);
			assertThat(LiveContexts.Home.all.length).isLessThanOrEqualTo(before);
		}
		finally {
			for (CancellableContext root : roots) {
				root.cancel(CancellationCause.COMPLETED);
				Contexts.unregister(root);
			}
		}
		assertThat(runtime.live().size()).isZero();
	}

}
