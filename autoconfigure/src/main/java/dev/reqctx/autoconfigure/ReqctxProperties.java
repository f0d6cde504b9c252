package dev.reqctx.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration properties for reqctx.
 */
@ConfigurationProperties("reqctx")
public class ReqctxProperties implements InitializingBean {

	/**
	 * Checks the bound values: a value reqctx cannot use fails start-up with the property's name
	 * and what to change.
	 * @throws InvalidReqctxPropertyException if a value is unusable
	 */
	@Override
	public void afterPropertiesSet() {
		ReqctxPropertiesValidator.validate(this);
	}

	/**
	 * Whether reqctx is enabled. When false nothing is registered.
	 */
	private boolean enabled = true;

	/**
	 * Whether to capture the stack of every context attach and report contexts left bound to a
	 * thread or scopes never closed. Costs a stack capture per attach: for tests and leak hunts.
	 */
	private boolean strict = false;

	private final Web web = new Web();

	private final Jdbc jdbc = new Jdbc();

	private final Http http = new Http();

	private final Task task = new Task();

	private final Scheduling scheduling = new Scheduling();

	private final Shutdown shutdown = new Shutdown();

	private final Messaging messaging = new Messaging();

	private final Operations operations = new Operations();

	private final Cancel cancel = new Cancel();

	private final Logging logging = new Logging();

	private final Tracing tracing = new Tracing();

	private final Metrics metrics = new Metrics();

	private final Grpc grpc = new Grpc();

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public boolean isStrict() {
		return this.strict;
	}

	public void setStrict(boolean strict) {
		this.strict = strict;
	}

	public Web getWeb() {
		return this.web;
	}

	public Jdbc getJdbc() {
		return this.jdbc;
	}

	public Http getHttp() {
		return this.http;
	}

	public Task getTask() {
		return this.task;
	}

	public Scheduling getScheduling() {
		return this.scheduling;
	}

	public Shutdown getShutdown() {
		return this.shutdown;
	}

	public Messaging getMessaging() {
		return this.messaging;
	}

	public Operations getOperations() {
		return this.operations;
	}

	public Cancel getCancel() {
		return this.cancel;
	}

	public Logging getLogging() {
		return this.logging;
	}

	public Metrics getMetrics() {
		return this.metrics;
	}

	public Tracing getTracing() {
		return this.tracing;
	}

	public Grpc getGrpc() {
		return this.grpc;
	}

	/**
	 * gRPC: inbound calls get a context, outbound calls are bounded by the caller's.
	 */
	public static class Grpc {

		/**
		 * Whether gRPC calls are covered: each inbound call gets a context from its deadline,
		 * and outbound calls get the caller's remaining budget as their deadline and are
		 * cancelled with it (global interceptors of Spring gRPC's server and channels).
		 */
		private boolean enabled = true;

		private final Server server = new Server();

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Server getServer() {
			return this.server;
		}

		/**
		 * Inbound gRPC calls.
		 */
		public static class Server {

			/**
			 * How long an inbound call may run when its client sent no deadline, or a longer
			 * one. None by default: a call without a deadline (a long-lived stream) runs until
			 * it ends or is cancelled.
			 */
			private Duration defaultTimeout;

			public Duration getDefaultTimeout() {
				return this.defaultTimeout;
			}

			public void setDefaultTimeout(Duration defaultTimeout) {
				this.defaultTimeout = defaultTimeout;
			}

		}

	}

	/**
	 * Metrics: reqctx's own meters.
	 */
	public static class Metrics {

		/**
		 * Whether to record reqctx's meters (reqctx.*) when a MeterRegistry is present.
		 */
		private boolean enabled = true;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

	}

	/**
	 * Logging: the request id, trace id and deadline in the MDC while a context runs.
	 */
	public static class Logging {

		/**
		 * Whether to put the request id and trace id in the logging MDC while a request or one
		 * of its tasks runs on a thread.
		 */
		private boolean enabled = true;

		/**
		 * Whether to put the request's deadline, in milliseconds since the epoch, in the MDC too
		 * (reqctx.deadlineMs), so that a log line shows the budget that was left when it was
		 * written. Off by default: every request pays for every key, logging or not.
		 */
		private boolean deadline;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public boolean isDeadline() {
			return this.deadline;
		}

		public void setDeadline(boolean deadline) {
			this.deadline = deadline;
		}

	}

	/**
	 * Tracing: each request's context records its trace id, its span the budget and the cause.
	 */
	public static class Tracing {

		/**
		 * Whether to record the trace id in each request's context and tag the request's span
		 * with its budget and cancellation cause, when a Micrometer Tracing tracer is present.
		 */
		private boolean enabled = true;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

	}

	/**
	 * Inbound requests: the servlet filter that gives each request its context.
	 */
	public static class Web {

		/**
		 * Whether to give every inbound servlet request a context.
		 */
		private boolean enabled = true;

		/**
		 * Deadline of a request when no per-path timeout matches and the caller sent no budget.
		 */
		private Duration defaultTimeout = Duration.ofSeconds(30);

		/**
		 * Longest deadline any request can get, whatever the caller's budget header or a
		 * per-path timeout says.
		 */
		private Duration maxTimeout = Duration.ofMinutes(5);

		/**
		 * Per-path deadlines that replace the default timeout, by path pattern (for example
		 * "[/reports/**]": 2m). The first matching pattern, in declaration order, wins.
		 */
		private Map<String, Duration> pathTimeouts = new LinkedHashMap<>();

		/**
		 * Name of the header that carries the caller's remaining budget in milliseconds.
		 */
		private String budgetHeader = "Request-Timeout-Ms";

		/**
		 * Whether to also accept a gRPC-style "grpc-timeout" header (such as "250m" or "2S").
		 */
		private boolean acceptGrpcTimeout = false;

		/**
		 * Whether to also accept Envoy's "x-envoy-expected-rq-timeout-ms" header (the route
		 * timeout Envoy or Istio enforces) as a budget. Of all the budgets a request carries, the
		 * shortest wins; a budget can only shorten a request's deadline.
		 */
		private boolean acceptEnvoyTimeout = true;

		/**
		 * Whether to cancel a request with CLIENT_GONE when its client closes the connection
		 * while a blocking handler still runs (Tomcat's NIO connector, HTTP/1.1 and HTTP/2).
		 * Requests that finish within 50 ms are never watched.
		 */
		private boolean detectClientGone = true;

		/**
		 * Whether to answer 400 to a request with a malformed budget header, instead of
		 * ignoring the header (and counting it).
		 */
		private boolean rejectInvalidBudget = false;

		/**
		 * Name of the header that carries the request id, in and out.
		 */
		private String requestIdHeader = "X-Request-Id";

		/**
		 * Whether requests that failed because their context was cancelled get an RFC 9457
		 * problem body when the client does not prefer HTML. When false, the application's
		 * error handling renders them; either way the status is 504 for an exceeded deadline and
		 * 503 otherwise, and browsers get the application's error page.
		 */
		private boolean problemResponses = true;

		/**
		 * Order of the request context filter. The default runs it before Spring Security and
		 * after the observation filter, so the trace id is known.
		 */
		private int filterOrder = org.springframework.core.Ordered.HIGHEST_PRECEDENCE + 2;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Duration getDefaultTimeout() {
			return this.defaultTimeout;
		}

		public void setDefaultTimeout(Duration defaultTimeout) {
			this.defaultTimeout = defaultTimeout;
		}

		public Duration getMaxTimeout() {
			return this.maxTimeout;
		}

		public void setMaxTimeout(Duration maxTimeout) {
			this.maxTimeout = maxTimeout;
		}

		public Map<String, Duration> getPathTimeouts() {
			return this.pathTimeouts;
		}

		public void setPathTimeouts(Map<String, Duration> pathTimeouts) {
			this.pathTimeouts = pathTimeouts;
		}

		public String getBudgetHeader() {
			return this.budgetHeader;
		}

		public void setBudgetHeader(String budgetHeader) {
			this.budgetHeader = budgetHeader;
		}

		public boolean isAcceptGrpcTimeout() {
			return this.acceptGrpcTimeout;
		}

		public void setAcceptGrpcTimeout(boolean acceptGrpcTimeout) {
			this.acceptGrpcTimeout = acceptGrpcTimeout;
		}

		public boolean isAcceptEnvoyTimeout() {
			return this.acceptEnvoyTimeout;
		}

		public void setAcceptEnvoyTimeout(boolean acceptEnvoyTimeout) {
			this.acceptEnvoyTimeout = acceptEnvoyTimeout;
		}

		public boolean isDetectClientGone() {
			return this.detectClientGone;
		}

		public void setDetectClientGone(boolean detectClientGone) {
			this.detectClientGone = detectClientGone;
		}

		public boolean isRejectInvalidBudget() {
			return this.rejectInvalidBudget;
		}

		public void setRejectInvalidBudget(boolean rejectInvalidBudget) {
			this.rejectInvalidBudget = rejectInvalidBudget;
		}

		public String getRequestIdHeader() {
			return this.requestIdHeader;
		}

		public void setRequestIdHeader(String requestIdHeader) {
			this.requestIdHeader = requestIdHeader;
		}

		public boolean isProblemResponses() {
			return this.problemResponses;
		}

		public void setProblemResponses(boolean problemResponses) {
			this.problemResponses = problemResponses;
		}

		public int getFilterOrder() {
			return this.filterOrder;
		}

		public void setFilterOrder(int filterOrder) {
			this.filterOrder = filterOrder;
		}

	}

	/**
	 * JDBC: statements run under their request's deadline and are cancelled with it.
	 */
	public static class Jdbc {

		/**
		 * Whether to wrap DataSource beans so statements follow their request's context.
		 */
		private boolean enabled = true;

		/**
		 * Longest SQL text shown for a running statement in the live tree; longer text is cut.
		 */
		private int maxSqlLength = 200;

		/**
		 * How often to repeat a cancel that has not stopped its statement yet.
		 */
		private Duration cancelRetryInterval = Duration.ofMillis(100);

		/**
		 * How long a cancelled statement may run on before its connection is aborted and evicted.
		 */
		private Duration abortAfter = Duration.ofSeconds(1);

		/**
		 * Whether to set PgJDBC's socketFactory (so a borrow stuck validating a dead connection
		 * can be broken) and a 1 s cancelSignalTimeout on PostgreSQL HikariCP pools that leave
		 * them unset.
		 */
		private boolean driverDefaults = true;

		public boolean isEnabled() {
			return this.enabled;
		}

		public boolean isDriverDefaults() {
			return this.driverDefaults;
		}

		public void setDriverDefaults(boolean driverDefaults) {
			this.driverDefaults = driverDefaults;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public int getMaxSqlLength() {
			return this.maxSqlLength;
		}

		public void setMaxSqlLength(int maxSqlLength) {
			this.maxSqlLength = maxSqlLength;
		}

		public Duration getCancelRetryInterval() {
			return this.cancelRetryInterval;
		}

		public void setCancelRetryInterval(Duration cancelRetryInterval) {
			this.cancelRetryInterval = cancelRetryInterval;
		}

		public Duration getAbortAfter() {
			return this.abortAfter;
		}

		public void setAbortAfter(Duration abortAfter) {
			this.abortAfter = abortAfter;
		}

	}

	/**
	 * Outbound HTTP: RestClient and RestTemplate carry the deadline downstream.
	 */
	public static class Http {

		/**
		 * Whether to propagate the context through RestClient, RestTemplate and WebClient calls.
		 */
		private boolean enabled = true;

		/**
		 * Time kept back from the budget sent downstream, for the network and the response.
		 */
		private Duration safetyMargin = Duration.ofMillis(10);

		/**
		 * Name of the header that carries the remaining budget in milliseconds downstream.
		 */
		private String budgetHeader = "Request-Timeout-Ms";

		/**
		 * Name of the header that carries the request id downstream.
		 */
		private String requestIdHeader = "X-Request-Id";

		/**
		 * Inbound headers (for example a tenant header) copied to outbound calls to internal
		 * hosts.
		 */
		private List<String> propagateHeaders = new ArrayList<>();

		/**
		 * Hosts that get the request id and the propagated headers: a host name or IP literal
		 * (exact, case-insensitive), '*.example.internal' for its subdomains, either optionally
		 * with ':port', or '*' for every host. Other hosts get the budget header only.
		 */
		private List<String> internalHosts = new ArrayList<>();

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Duration getSafetyMargin() {
			return this.safetyMargin;
		}

		public void setSafetyMargin(Duration safetyMargin) {
			this.safetyMargin = safetyMargin;
		}

		public String getBudgetHeader() {
			return this.budgetHeader;
		}

		public void setBudgetHeader(String budgetHeader) {
			this.budgetHeader = budgetHeader;
		}

		public String getRequestIdHeader() {
			return this.requestIdHeader;
		}

		public void setRequestIdHeader(String requestIdHeader) {
			this.requestIdHeader = requestIdHeader;
		}

		public List<String> getPropagateHeaders() {
			return this.propagateHeaders;
		}

		public void setPropagateHeaders(List<String> propagateHeaders) {
			this.propagateHeaders = propagateHeaders;
		}

		public List<String> getInternalHosts() {
			return this.internalHosts;
		}

		public void setInternalHosts(List<String> internalHosts) {
			this.internalHosts = internalHosts;
		}

	}

	/**
	 * Threads: tasks run in a child of the submitting context.
	 */
	public static class Task {

		/**
		 * Whether to propagate the context to Spring's task executors.
		 */
		private boolean enabled = true;

		/**
		 * What to do with a task still queued or running when its request ends: cancel it (its
		 * SQL and HTTP stop) or only report it.
		 */
		private OrphanAction onRequestEnd = OrphanAction.CANCEL;

		/**
		 * Whether to capture the stack where each task is submitted, so orphan reports say where
		 * the task came from. Costs a stack capture per task: for leak hunting.
		 */
		private boolean captureStacks = false;

		/**
		 * How many of the most recent orphaned tasks the actuator endpoint keeps under "leaks".
		 */
		private int leakHistory = 50;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public OrphanAction getOnRequestEnd() {
			return this.onRequestEnd;
		}

		public void setOnRequestEnd(OrphanAction onRequestEnd) {
			this.onRequestEnd = onRequestEnd;
		}

		public boolean isCaptureStacks() {
			return this.captureStacks;
		}

		public void setCaptureStacks(boolean captureStacks) {
			this.captureStacks = captureStacks;
		}

		public int getLeakHistory() {
			return this.leakHistory;
		}

		public void setLeakHistory(int leakHistory) {
			this.leakHistory = leakHistory;
		}

		/**
		 * What happens to a task that outlives its request.
		 */
		public enum OrphanAction {

			/** Cancel it with cause COMPLETED, which stops its SQL and HTTP calls. */
			CANCEL,

			/** Leave it running; only record, log and count it. */
			REPORT

		}

	}

	/**
	 * Scheduled jobs: each run of a {@code @Scheduled} method is a root context (kind JOB).
	 */
	public static class Scheduling {

		/**
		 * Whether each run of a {@code @Scheduled} method gets a root context of its own.
		 */
		private boolean enabled = true;

		/**
		 * How long a run of a scheduled job may take before it is cancelled (its SQL and HTTP
		 * stopped). None by default: a job's run then ends only by itself or an operator's cancel.
		 */
		private Duration defaultTimeout;

		/**
		 * Timeouts of particular jobs, by job name ({@code SimpleClassName.method}) or pattern
		 * ({@code ReportJobs.*}, {@code *.purge}); an exact name wins over a pattern, a longer
		 * pattern over a shorter one. In YAML, quote keys with dots in brackets:
		 * {@code "[ReportJobs.nightly]": 10m}.
		 */
		private Map<String, Duration> timeouts = new LinkedHashMap<>();

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Duration getDefaultTimeout() {
			return this.defaultTimeout;
		}

		public void setDefaultTimeout(Duration defaultTimeout) {
			this.defaultTimeout = defaultTimeout;
		}

		public Map<String, Duration> getTimeouts() {
			return this.timeouts;
		}

		public void setTimeouts(Map<String, Duration> timeouts) {
			this.timeouts = timeouts;
		}

	}

	/**
	 * Shutdown: in-flight work is cancelled (cause SHUTDOWN) shortly before the shutdown grace
	 * period ends, so it answers and gives back its connections instead of being killed.
	 */
	public static class Shutdown {

		/**
		 * Whether in-flight requests and jobs are cancelled with cause SHUTDOWN when the
		 * application shuts down.
		 */
		private boolean enabled = true;

		/**
		 * How long before the end of the grace period
		 * ({@code spring.lifecycle.timeout-per-shutdown-phase}) in-flight work is cancelled, so
		 * it can answer and give back its connections while the web server still waits for it.
		 * Never more than half the grace period.
		 */
		private Duration margin = Duration.ofSeconds(1);

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Duration getMargin() {
			return this.margin;
		}

		public void setMargin(Duration margin) {
			this.margin = margin;
		}

	}

	/**
	 * Message listeners: each message a {@code @KafkaListener}, {@code @JmsListener},
	 * {@code @RabbitListener} (or similar) method takes is a root context (kind MESSAGE).
	 */
	public static class Messaging {

		/**
		 * Whether each message a listener method takes gets a root context of its own.
		 */
		private boolean enabled = true;

		/**
		 * How long a listener may work on one message before it is cancelled (its SQL and HTTP
		 * stopped; the failure goes to the container's error handling, so the message is not
		 * lost). None by default.
		 */
		private Duration defaultTimeout;

		/**
		 * Timeouts of particular listeners, by name ({@code SimpleClassName.method}) or pattern
		 * ({@code Order*.*}); an exact name wins over a pattern, a longer pattern over a shorter
		 * one. In YAML, quote keys with dots in brackets: {@code "[OrderListener.onOrder]": 5s}.
		 */
		private Map<String, Duration> timeouts = new LinkedHashMap<>();

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Duration getDefaultTimeout() {
			return this.defaultTimeout;
		}

		public void setDefaultTimeout(Duration defaultTimeout) {
			this.defaultTimeout = defaultTimeout;
		}

		public Map<String, Duration> getTimeouts() {
			return this.timeouts;
		}

		public void setTimeouts(Map<String, Duration> timeouts) {
			this.timeouts = timeouts;
		}

	}

	/**
	 * Operations (SQL, outbound HTTP) in general.
	 */
	public static class Operations {

		/**
		 * Whether SQL and outbound HTTP that run on a thread with no context while requests are
		 * in flight are counted by call site ({@code reqctx.operations.unbound}) and listed under
		 * {@code unbound} in {@code /actuator/requestcontexts}: they usually mean the context was
		 * lost on the way (an executor that does not propagate it).
		 */
		private boolean detectUnbound = true;

		public boolean isDetectUnbound() {
			return this.detectUnbound;
		}

		public void setDetectUnbound(boolean detectUnbound) {
			this.detectUnbound = detectUnbound;
		}

	}

	/**
	 * Cancellation records: how each cancel spread, and what did not stop.
	 */
	public static class Cancel {

		/**
		 * How many recent cancellations (and completions that stopped leftover work)
		 * {@code /actuator/requestcontexts} keeps under {@code cancellations}, with when each of
		 * their operations and tasks was signalled and returned. 0 keeps none.
		 */
		private int history = 20;

		/**
		 * How long after its cancel signal an operation or task that still runs is a straggler:
		 * marked in the record, counted ({@code reqctx.cancel.stragglers}) and logged at WARN with
		 * the stack of its thread.
		 */
		private Duration stragglerAfter = Duration.ofMillis(500);

		public int getHistory() {
			return this.history;
		}

		public void setHistory(int history) {
			this.history = history;
		}

		public Duration getStragglerAfter() {
			return this.stragglerAfter;
		}

		public void setStragglerAfter(Duration stragglerAfter) {
			this.stragglerAfter = stragglerAfter;
		}

	}

}
