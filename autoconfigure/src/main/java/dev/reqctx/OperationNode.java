package dev.reqctx;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import dev.reqctx.spi.CancellationHistory;
import dev.reqctx.spi.Operation;

/**
 * The core's {@link Operation}: an entry in its context's cancel list, so starting and ending one
 * costs a link and an unlink under the context's monitor.
 */
final class OperationNode extends CancelNode implements Operation {

	private final String kind;

	private final String description;

	private final long startNanos;

	private final String threadName;

	private final Thread thread;

	/** Set when a root's recorded cancel signals this operation. */
	private volatile CancellationHistory.Step step;

	private final Consumer<CancellationCause> onCancel;

	private volatile long cancelSignalNanos;

	OperationNode(String kind, String description, Consumer<CancellationCause> onCancel) {
		this.kind = kind;
		this.description = description;
		this.onCancel = onCancel;
		this.startNanos = System.nanoTime();
		this.thread = Thread.currentThread();
		this.threadName = this.thread.getName();
	}

	@Override
	void fire(CancellationCause cause) {
		this.cancelSignalNanos = System.nanoTime();
		this.step = CancellationHistory.signalled(this, this.thread);
		if (this.onCancel != null) {
			this.onCancel.accept(cause);
		}
	}

	@Override
	public boolean remove() {
		CancellationHistory.Step step = this.step;
		if (step != null) {
			step.returned();
		}
		return unlink();
	}

	@Override
	public boolean wasCancelled() {
		return hasFired();
	}

	@Override
	public long cancelSignalNanos() {
		return this.cancelSignalNanos;
	}

	@Override
	public String kind() {
		return this.kind;
	}

	@Override
	public String description() {
		return this.description;
	}

	@Override
	public long ageMillis() {
		return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - this.startNanos);
	}

	@Override
	public String threadName() {
		return this.threadName;
	}

}
