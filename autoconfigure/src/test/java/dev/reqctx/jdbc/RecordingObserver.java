package dev.reqctx.jdbc;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.reqctx.CancellationCause;
import dev.reqctx.spi.ContextObserver;

/** A {@link ContextObserver} that records operation events, for tests. */
final class RecordingObserver implements ContextObserver {

	final List<Long> started = new CopyOnWriteArrayList<>();

	final List<Cancelled> cancelled = new CopyOnWriteArrayList<>();

	@Override
	public void operationStarted(String operation, long remainingNanos) {
		if (operation.equals("jdbc")) {
			this.started.add(remainingNanos);
		}
	}

	@Override
	public void operationCancelled(String operation, CancellationCause cause, long latencyNanos) {
		if (operation.equals("jdbc")) {
			this.cancelled.add(new Cancelled(cause, latencyNanos));
		}
	}

	record Cancelled(CancellationCause cause, long latencyNanos) {
	}

}
