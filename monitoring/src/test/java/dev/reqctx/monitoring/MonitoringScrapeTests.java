package dev.reqctx.monitoring;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import dev.reqctx.CancellationCause;
import dev.reqctx.ContextKind;
import dev.reqctx.monitoring.MonitoringFiles.Query;
import dev.reqctx.monitoring.MonitoringFiles.Rule;
import dev.reqctx.monitoring.Promql.LabelMatcher;
import dev.reqctx.monitoring.Promql.Selector;
import dev.reqctx.testsupport.TestHttp;
import dev.reqctx.testsupport.TestHttp.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every metric, label and label value the rules and the dashboard use is one reqctx exports: a
 * real application's {@code /actuator/prometheus} is scraped over HTTP, in the text format and
 * in OpenMetrics (what Prometheus asks for first), after work that moves every meter.
 */
@Timeout(value = 120, threadMode = ThreadMode.SEPARATE_THREAD)
class MonitoringScrapeTests {

	/** Labels Prometheus adds to every series it scrapes. */
	private static final Set<String> TARGET_LABELS = Set.of("job", "instance");

	private static final String TEXT = "text/plain;version=0.0.4;charset=utf-8";

	private static final String OPENMETRICS = "application/openmetrics-text;version=1.0.0;charset=utf-8";

	private static ConfigurableApplicationContext application;

	private static List<Scrape> scrapes;

	@BeforeAll
	static void startTheApplicationMoveEveryMeterAndScrape() {
		application = new SpringApplicationBuilder(ScrapedApplication.class)
			.properties("server.port=0", "server.address=127.0.0.1", "spring.main.banner-mode=off",
					"management.endpoints.web.exposure.include=prometheus",
					"spring.http.clients.imperative.factory=jdk", "spring.http.clients.read-timeout=10s",
					"spring.datasource.url=jdbc:h2:mem:scraped;DB_CLOSE_DELAY=-1",
					"spring.sql.init.schema-locations=classpath:dev/reqctx/monitoring/schema.sql",
					"reqctx.cancel.straggler-after=100ms")
			.run();
		TestHttp http = new TestHttp(((WebServerApplicationContext) application).getWebServer().getPort());
		assertThat(http.get("/m/ok").status()).isEqualTo(200);
		assertThat(http.get("/m/ok", "Request-Timeout-Ms", "soon").status()).isEqualTo(200);
		Response sql = http.get("/m/sql", "Request-Timeout-Ms", "300");
		assertThat(sql.status()).as("%s", sql).isEqualTo(504);
		Response call = http.get("/m/call", "Request-Timeout-Ms", "300");
		assertThat(call.status()).as("%s", call).isEqualTo(504);
		assertThat(http.get("/m/orphan", "Request-Timeout-Ms", "5000").status()).isEqualTo(200);
		assertThat(http.get("/m/stubborn", "Request-Timeout-Ms", "300").status()).isEqualTo(504);
		assertThat(http.get("/m/unbound").status()).isEqualTo(200);
		// Meters move when the work has ended, which can be just after the answer.
		await("every meter moved").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
			Scrape scrape = scrape(http, TEXT);
			return scrape.has("reqctx_requests_total", "outcome", "DEADLINE_EXCEEDED", "route", "/m/sql")
					&& scrape.has("reqctx_cancel_latency_seconds", "operation", "jdbc", "quantile", "0.99")
					&& scrape.has("reqctx_cancel_latency_seconds", "operation", "http", "quantile", "0.99")
					&& scrape.has("reqctx_budget_remaining_milliseconds_bucket", "operation", "task")
					&& scrape.has("reqctx_work_seconds_count", "kind", "JOB", "outcome", "COMPLETED")
					&& scrape.has("reqctx_budget_invalid_total", "reason", "malformed")
					&& scrape.sum("reqctx_tasks_orphaned_total") >= 1
					&& scrape.has("reqctx_cancel_stragglers_total", "operation", "task")
					&& scrape.has("reqctx_operations_unbound_total", "operation", "jdbc");
		});
		scrapes = List.of(scrape(http, TEXT), scrape(http, OPENMETRICS));
		assertThat(scrapes.get(0).format()).startsWith("text/plain");
		assertThat(scrapes.get(1).format()).startsWith("application/openmetrics-text");
	}

	@AfterAll
	static void stop() {
		if (application != null) {
			application.close();
		}
	}

	@Test
	void everyMetricTheRulesAndTheDashboardUseIsOneReqctxExports() throws IOException {
		for (Scrape scrape : scrapes) {
			List<String> unknown = new ArrayList<>();
			for (Query query : queries()) {
				for (Selector selector : Promql.selectors(query.expr())) {
					if (!scrape.has(selector.metric())) {
						unknown.add(selector.metric() + " in " + query.where());
					}
				}
			}
			assertThat(unknown).as("not in the %s scrape, which has %s", scrape.format(), scrape.names("reqctx_"))
				.isEmpty();
		}
	}

	@Test
	void everyLabelTheyMatchOrGroupOnIsALabelOfTheirMetrics() throws IOException {
		for (Scrape scrape : scrapes) {
			List<String> unknown = new ArrayList<>();
			for (Query query : queries()) {
				List<Selector> selectors = Promql.selectors(query.expr());
				Set<String> labelsOfAll = new TreeSet<>(TARGET_LABELS);
				for (Selector selector : selectors) {
					Set<String> labels = labels(scrape, selector.metric());
					labelsOfAll.addAll(labels);
					for (LabelMatcher matcher : selector.matchers()) {
						if (!labels.contains(matcher.label())) {
							unknown.add(selector.metric() + " has no label " + matcher.label() + " (" + labels + "), in "
									+ query.where());
						}
					}
				}
				// An expression of recorded series only: promtool's unit tests check those.
				if (!selectors.isEmpty()) {
					for (String label : Promql.groupingLabels(query.expr())) {
						if (!labelsOfAll.contains(label)) {
							unknown.add("no metric in " + query.where() + " has the label " + label + " it groups by");
						}
					}
				}
			}
			assertThat(unknown).as("in the %s scrape", scrape.format()).isEmpty();
		}
	}

	@Test
	void everyLabelValueTheyNameIsOneReqctxWrites() throws IOException {
		Set<String> outcomes = Arrays.stream(CancellationCause.values()).map(Enum::name).collect(Collectors.toSet());
		Set<String> kinds = Arrays.stream(ContextKind.values())
			.filter(ContextKind::isRoot)
			.map(Enum::name)
			.collect(Collectors.toSet());
		for (Scrape scrape : scrapes) {
			List<String> unknown = new ArrayList<>();
			for (Query query : queries()) {
				for (Selector selector : Promql.selectors(query.expr())) {
					for (LabelMatcher matcher : selector.matchers()) {
						// Outcomes and kinds beyond the ones the application produced come from the enums.
						Set<String> known = switch (matcher.label()) {
							case "outcome", "cause" -> outcomes;
							case "kind" -> kinds;
							default -> scrape.values(selector.metric(), matcher.label());
						};
						for (String value : matcher.literalValues()) {
							if (!known.contains(value)) {
								unknown.add(selector.metric() + "{" + matcher.label() + matcher.operator() + "\"" + value
										+ "\"} in " + query.where() + ": the values are " + known);
							}
						}
					}
				}
			}
			assertThat(unknown).as("in the %s scrape", scrape.format()).isEmpty();
		}
	}

	@Test
	void theDashboardShowsEveryReqctxMeter() throws IOException {
		JsonNode dashboard = MonitoringFiles.dashboard();
		Set<String> shown = MonitoringFiles.queries(dashboard)
			.stream()
			.flatMap((query) -> Promql.selectors(query.expr()).stream())
			.map((selector) -> family(selector.metric()))
			.collect(Collectors.toSet());
		Set<String> exported = scrapes.get(0)
			.names("reqctx_")
			.stream()
			.map(MonitoringScrapeTests::family)
			.collect(Collectors.toCollection(TreeSet::new));
		assertThat(shown).as("meters shown").containsAll(exported);
	}

	@Test
	void theBudgetBucketTheRulesUseIsWrittenTheSameWayInBothFormats() {
		for (Scrape scrape : scrapes) {
			assertThat(scrape.values("reqctx_budget_remaining_milliseconds_bucket", "le")).as(scrape.format())
				.contains("10.0", "100.0", "30000.0", "+Inf");
			assertThat(scrape.values("reqctx_cancel_latency_seconds", "quantile")).as(scrape.format())
				.containsExactlyInAnyOrder("0.5", "0.95", "0.99");
		}
	}

	/** The expressions of every rule, dashboard query and dashboard variable. */
	private static List<Query> queries() throws IOException {
		List<Query> queries = new ArrayList<>();
		for (Rule rule : MonitoringFiles.rules()) {
			queries.add(new Query("rule " + rule.name(), rule.expr()));
		}
		JsonNode dashboard = MonitoringFiles.dashboard();
		queries.addAll(MonitoringFiles.queries(dashboard));
		queries.addAll(MonitoringFiles.variableQueries(dashboard));
		return queries;
	}

	private static Set<String> labels(Scrape scrape, String metric) {
		Set<String> labels = new TreeSet<>(TARGET_LABELS);
		labels.addAll(scrape.labels(metric));
		return labels;
	}

	/** The meter a sample belongs to: its name without the suffix of its type. */
	private static String family(String sample) {
		return sample.replaceFirst("_(total|count|sum|bucket|max)$", "");
	}

	private static Scrape scrape(TestHttp http, String accept) {
		Response response = http.get("/actuator/prometheus", "Accept", accept);
		assertThat(response.status()).as("%s", response).isEqualTo(200);
		return Scrape.parse(response.header("Content-Type"), response.body());
	}

}
