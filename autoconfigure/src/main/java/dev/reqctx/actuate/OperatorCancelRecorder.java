package dev.reqctx.actuate;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * Records the cancels operators ask for through the {@code requestcontexts} endpoint. The
 * endpoint always logs each one ({@link #LOG}); the auto-configuration adds one that publishes
 * a Spring Boot audit event when the application keeps an audit event repository. Recorders are
 * called on the operator's request thread, after the cancel.
 */
@FunctionalInterface
public interface OperatorCancelRecorder {

	/** Writes one INFO line per operator cancel, found or not. */
	OperatorCancelRecorder LOG = new OperatorCancelRecorder() {

		private final Logger logger = System.getLogger(RequestContextsEndpoint.class.getName());

		@Override
		public void record(OperatorCancel cancel) {
			String who = (cancel.principal() != null) ? "'" + cancel.principal() + "'" : "an anonymous caller";
			String from = (cancel.remoteAddress() != null) ? " from " + cancel.remoteAddress() : "";
			String what = !cancel.found() ? "nothing (no context in flight has that id)"
					: "context " + cancel.contextId() + ((cancel.request() != null) ? " (" + cancel.request() + ")" : "")
							+ ((cancel.requestId() != null) ? " [" + cancel.requestId() + "]" : "")
							+ (cancel.cancelled() ? "" : ", which was already cancelled");
			this.logger.log(Level.INFO, "Operator cancel of '" + cancel.target() + "' by " + who + from + ": cancelled "
					+ what);
		}

	};

	/**
	 * Records one operator cancel.
	 * @param cancel what was asked and what it hit
	 */
	void record(OperatorCancel cancel);

}
