package dev.reqctx.actuate;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.boot.actuate.audit.listener.AuditApplicationEvent;
import org.springframework.context.ApplicationEventPublisher;

/**
 * Publishes each operator cancel as a Spring Boot {@link AuditApplicationEvent} of type
 * {@value #TYPE}, which Boot's audit listener stores in the application's audit event
 * repository (and {@code /actuator/auditevents} shows).
 */
public final class AuditEventOperatorCancelRecorder implements OperatorCancelRecorder {

	/** The audit event type. */
	public static final String TYPE = "REQUEST_CONTEXT_CANCEL";

	private final ApplicationEventPublisher publisher;

	/**
	 * Creates a recorder.
	 * @param publisher where to publish the events
	 */
	public AuditEventOperatorCancelRecorder(ApplicationEventPublisher publisher) {
		this.publisher = publisher;
	}

	@Override
	public void record(OperatorCancel cancel) {
		Map<String, Object> data = new LinkedHashMap<>();
		data.put("target", cancel.target());
		data.put("found", cancel.found());
		data.put("cancelled", cancel.cancelled());
		putIfPresent(data, "contextId", cancel.contextId());
		putIfPresent(data, "request", cancel.request());
		putIfPresent(data, "requestId", cancel.requestId());
		putIfPresent(data, "remoteAddress", cancel.remoteAddress());
		String principal = (cancel.principal() != null) ? cancel.principal() : "anonymous";
		this.publisher.publishEvent(new AuditApplicationEvent(principal, TYPE, data));
	}

	private static void putIfPresent(Map<String, Object> data, String key, Object value) {
		if (value != null) {
			data.put(key, value);
		}
	}

}
