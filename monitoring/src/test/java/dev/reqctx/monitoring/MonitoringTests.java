package dev.reqctx.monitoring;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import dev.reqctx.monitoring.MonitoringFiles.AlertCheck;
import dev.reqctx.monitoring.MonitoringFiles.Query;
import dev.reqctx.monitoring.MonitoringFiles.Rule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rules and the dashboard checked with Prometheus's own promtool: the rules load, their unit
 * tests (synthetic series that make each alert fire, and cases that must not) pass, and every
 * query of the dashboard is valid PromQL. promtool must be installed
 * ({@code scripts/install-promtool.sh}); without it these tests fail, they never skip.
 * {@link MonitoringScrapeTests} checks the names against a real application.
 */
class MonitoringTests {

	private static final Set<String> SEVERITIES = Set.of("critical", "warning", "info");

	/** Grafana's own variables, which every dashboard may use. */
	private static final Set<String> BUILT_IN_VARIABLES = Set.of("__rate_interval", "__interval", "__range");

	/** Panels that ship with Grafana: the dashboard must not need a plugin. */
	private static final Set<String> CORE_PANELS = Set.of("row", "timeseries", "stat", "gauge", "bargauge", "table",
			"text", "heatmap", "barchart", "piechart", "state-timeline", "status-history", "histogram");

	private static final Pattern DURATION = Pattern.compile("([0-9]+(ms|s|m|h|d|w|y))+");

	private static final Pattern LABEL_VALUES = Pattern
		.compile("label_values\\((.+),\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*\\)");

	@Test
	void promtoolAcceptsTheRules() throws Exception {
		Promtool.Result result = Promtool.find().run(MonitoringFiles.PROMETHEUS, "check", "rules",
				MonitoringFiles.RULES.getFileName().toString());
		assertThat(result.exitCode()).as("%s", result).isZero();
		assertThat(result.output()).as("%s", result).contains("SUCCESS");
	}

	@Test
	void theRulesPassTheirPromtoolUnitTests() throws Exception {
		Promtool.Result result = Promtool.find().run(MonitoringFiles.PROMETHEUS, "test", "rules",
				MonitoringFiles.RULE_TESTS.getFileName().toString());
		assertThat(result.exitCode()).as("%s", result).isZero();
		assertThat(result.output()).as("%s", result).contains("SUCCESS").doesNotContain("FAILED");
	}

	@Test
	void everyAlertWaitsHasASeverityAndTellsTheOnCallEngineerWhatItMeansAndWhereToLook() throws IOException {
		List<Rule> alerts = alerts();
		assertThat(alerts).hasSizeGreaterThanOrEqualTo(6);
		for (Rule alert : alerts) {
			assertThat(alert.forDuration()).as("%s: for", alert.alert()).isNotNull().matches(DURATION);
			assertThat(alert.labels().get("severity")).as("%s: severity", alert.alert()).isIn(SEVERITIES);
			for (String annotation : List.of("summary", "description", "runbook")) {
				assertThat(alert.annotations().get(annotation)).as("%s: %s", alert.alert(), annotation).isNotBlank();
			}
		}
	}

	@Test
	void everyAlertHasAUnitTestWhereItFiresAndOneWhereItStaysQuiet() throws IOException {
		List<AlertCheck> checks = MonitoringFiles.alertChecks();
		for (Rule alert : alerts()) {
			assertThat(checks).as("tests of %s", alert.alert())
				.anyMatch((check) -> check.alertName().equals(alert.alert()) && check.expectedAlerts() > 0)
				.anyMatch((check) -> check.alertName().equals(alert.alert()) && check.expectedAlerts() == 0);
		}
		Set<String> alertNames = alerts().stream().map(Rule::alert).collect(Collectors.toSet());
		assertThat(checks).extracting(AlertCheck::alertName).allMatch(alertNames::contains);
	}

	@Test
	void rulesUseOnlySeriesThatTheyRecord() throws IOException {
		List<Rule> rules = MonitoringFiles.rules();
		Set<String> recorded = new HashSet<>();
		for (Rule rule : rules) {
			if (rule.record() != null) {
				assertThat(rule.record()).as("level:metric:operations").matches("[a-z_]+:[a-z0-9_]+:[a-z0-9_]+");
				recorded.add(rule.record());
			}
		}
		for (Rule rule : rules) {
			// A misspelt recorded series is valid PromQL that selects nothing: an alert that never fires.
			assertThat(Promql.recordedSeries(rule.expr())).as("%s: %s", rule.name(), rule.expr())
				.allMatch(recorded::contains);
		}
	}

	@Test
	void everyDashboardQueryIsValidPromql(@TempDir Path dir) throws Exception {
		JsonNode dashboard = MonitoringFiles.dashboard();
		Map<String, String> values = sampleValues(dashboard);
		List<String> expressions = new ArrayList<>();
		for (Query query : MonitoringFiles.queries(dashboard)) {
			assertThat(query.expr()).as(query.where()).isNotBlank();
			expressions.add(Promql.substitute(query.expr(), values));
		}
		for (Query query : MonitoringFiles.variableQueries(dashboard)) {
			Matcher labelValues = LABEL_VALUES.matcher(query.expr());
			assertThat(labelValues.matches()).as("%s: %s", query.where(), query.expr()).isTrue();
			expressions.add(Promql.substitute(labelValues.group(1), values));
		}
		assertThat(expressions).hasSizeGreaterThanOrEqualTo(15);
		// promtool has no command that parses a bare expression, but it parses every rule's.
		StringBuilder rules = new StringBuilder("groups:\n  - name: reqctx-dashboard\n    rules:\n");
		for (int i = 0; i < expressions.size(); i++) {
			rules.append("      - record: reqctx_dashboard_query_").append(i + 1).append('\n');
			rules.append("        expr: ").append(MonitoringFiles.JSON.writeValueAsString(expressions.get(i))).append('\n');
		}
		Path file = dir.resolve("dashboard-queries.yml");
		Files.writeString(file, rules, StandardCharsets.UTF_8);
		Promtool.Result result = Promtool.find().run(dir, "check", "rules", file.getFileName().toString());
		assertThat(result.exitCode()).as("%s\n%s", result, rules).isZero();
		assertThat(result.output()).as("%s", result).contains("SUCCESS: " + expressions.size() + " rules found");
	}

	@Test
	void theDashboardNeedsNoPluginAndQueriesTheDatasourceItIsGiven() throws IOException {
		JsonNode dashboard = MonitoringFiles.dashboard();
		assertThat(dashboard.path("schemaVersion").asInt()).isBetween(36, 41);
		assertThat(dashboard.path("uid").asString()).isNotBlank();
		JsonNode datasource = variable(dashboard, "datasource");
		assertThat(datasource.path("type").asString()).isEqualTo("datasource");
		assertThat(datasource.path("query").asString()).isEqualTo("prometheus");
		assertThat(dashboard.has("__requires")).as("__requires lists plugins").isFalse();
		for (JsonNode panel : MonitoringFiles.panels(dashboard)) {
			String title = panel.path("title").asString();
			assertThat(panel.path("type").asString()).as(title).isIn(CORE_PANELS);
			if (panel.path("type").asString().equals("row")) {
				continue;
			}
			assertThat(panel.path("description").asString()).as("%s: description", title).isNotBlank();
			assertThat(panel.path("datasource").path("uid").asString()).as(title).isEqualTo("${datasource}");
			assertThat(panel.path("targets")).as(title).isNotEmpty();
			for (JsonNode target : panel.path("targets")) {
				assertThat(target.path("datasource").path("uid").asString()).as(title).isEqualTo("${datasource}");
			}
		}
		for (JsonNode variable : dashboard.path("templating").path("list")) {
			if (variable.path("type").asString().equals("query")) {
				assertThat(variable.path("datasource").path("uid").asString()).isEqualTo("${datasource}");
			}
		}
	}

	@Test
	void theDashboardQueriesUseOnlyItsOwnAndGrafanasVariables() throws IOException {
		JsonNode dashboard = MonitoringFiles.dashboard();
		Set<String> defined = new HashSet<>(BUILT_IN_VARIABLES);
		for (JsonNode variable : dashboard.path("templating").path("list")) {
			defined.add(variable.path("name").asString());
		}
		List<Query> queries = new ArrayList<>(MonitoringFiles.queries(dashboard));
		queries.addAll(MonitoringFiles.variableQueries(dashboard));
		for (Query query : queries) {
			assertThat(Promql.variables(query.expr())).as("%s: %s", query.where(), query.expr()).allMatch(defined::contains);
			// Every panel follows the job and instance pickers.
			if (!query.where().startsWith("variable ")) {
				assertThat(query.expr()).as(query.where()).contains("job=~\"$job\"").contains("instance=~\"$instance\"");
			}
		}
	}

	@Test
	void theDashboardPanelsHaveUniqueIdsAndFitTheGrid() throws IOException {
		Set<Integer> ids = new HashSet<>();
		for (JsonNode panel : MonitoringFiles.panels(MonitoringFiles.dashboard())) {
			String title = panel.path("title").asString();
			assertThat(ids.add(panel.path("id").asInt())).as("id of %s", title).isTrue();
			JsonNode grid = panel.path("gridPos");
			assertThat(grid.path("w").asInt()).as(title).isPositive();
			assertThat(grid.path("h").asInt()).as(title).isPositive();
			assertThat(grid.path("x").asInt() + grid.path("w").asInt()).as(title).isLessThanOrEqualTo(24);
		}
	}

	private static List<Rule> alerts() throws IOException {
		return MonitoringFiles.rules().stream().filter((rule) -> rule.alert() != null).toList();
	}

	private static JsonNode variable(JsonNode dashboard, String name) {
		for (JsonNode variable : dashboard.path("templating").path("list")) {
			if (variable.path("name").asString().equals(name)) {
				return variable;
			}
		}
		throw new AssertionError("No variable " + name);
	}

	/** Values as Grafana would send them: a multi-value variable becomes a regular expression. */
	private static Map<String, String> sampleValues(JsonNode dashboard) {
		Map<String, String> values = new LinkedHashMap<>();
		values.put("__rate_interval", "1m");
		values.put("__interval", "15s");
		values.put("__range", "3h");
		for (JsonNode variable : dashboard.path("templating").path("list")) {
			String name = variable.path("name").asString();
			values.putIfAbsent(name, switch (name) {
				case "instance" -> "(10\\\\.0\\\\.0\\\\.1:8080|10\\\\.0\\\\.0\\\\.2:8080)";
				default -> "(orders|billing)";
			});
		}
		return values;
	}

}
