package dev.reqctx.monitoring;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The files this module ships, read as data: the Prometheus rules, their promtool unit tests
 * and the Grafana dashboard.
 */
final class MonitoringFiles {

	/** The module's folder (Surefire runs the tests there and says so in {@code basedir}). */
	static final Path MODULE = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();

	static final Path PROMETHEUS = MODULE.resolve("prometheus");

	static final Path RULES = PROMETHEUS.resolve("reqctx-rules.yml");

	static final Path RULE_TESTS = PROMETHEUS.resolve("reqctx-rules.test.yml");

	static final Path DASHBOARD = MODULE.resolve("grafana").resolve("reqctx-dashboard.json");

	static final JsonMapper JSON = JsonMapper.builder().build();

	private MonitoringFiles() {
	}

	/**
	 * Reads every rule of the rules file, in order.
	 * @return the rules
	 * @throws IOException if the file cannot be read
	 */
	@SuppressWarnings("unchecked")
	static List<Rule> rules() throws IOException {
		List<Rule> rules = new ArrayList<>();
		for (Map<String, Object> group : (List<Map<String, Object>>) yaml(RULES).get("groups")) {
			for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
				rules.add(new Rule((String) group.get("name"), (String) rule.get("record"), (String) rule.get("alert"),
						String.valueOf(rule.get("expr")), (rule.get("for") != null) ? String.valueOf(rule.get("for")) : null,
						strings((Map<String, Object>) rule.get("labels")),
						strings((Map<String, Object>) rule.get("annotations"))));
			}
		}
		return rules;
	}

	/**
	 * Reads the alert checks of the rules' unit tests.
	 * @return each {@code alert_rule_test} entry: the alert's name and how many alerts it expects
	 * @throws IOException if the file cannot be read
	 */
	@SuppressWarnings("unchecked")
	static List<AlertCheck> alertChecks() throws IOException {
		List<AlertCheck> checks = new ArrayList<>();
		for (Map<String, Object> test : (List<Map<String, Object>>) yaml(RULE_TESTS).get("tests")) {
			List<Map<String, Object>> alertTests = (List<Map<String, Object>>) test.get("alert_rule_test");
			if (alertTests == null) {
				continue;
			}
			for (Map<String, Object> alertTest : alertTests) {
				List<Object> expected = (List<Object>) alertTest.get("exp_alerts");
				checks.add(new AlertCheck((String) test.get("name"), (String) alertTest.get("alertname"),
						(expected != null) ? expected.size() : 0));
			}
		}
		return checks;
	}

	/**
	 * Reads the dashboard.
	 * @return its JSON
	 * @throws IOException if the file cannot be read
	 */
	static JsonNode dashboard() throws IOException {
		return JSON.readTree(Files.readString(DASHBOARD, StandardCharsets.UTF_8));
	}

	/**
	 * Returns every panel of the dashboard, rows and the panels of collapsed rows included.
	 * @param dashboard the dashboard
	 * @return the panels
	 */
	static List<JsonNode> panels(JsonNode dashboard) {
		List<JsonNode> panels = new ArrayList<>();
		for (JsonNode panel : dashboard.path("panels")) {
			panels.add(panel);
			for (JsonNode nested : panel.path("panels")) {
				panels.add(nested);
			}
		}
		return panels;
	}

	/**
	 * Returns every query of the dashboard's panels.
	 * @param dashboard the dashboard
	 * @return the queries, named after their panel
	 */
	static List<Query> queries(JsonNode dashboard) {
		List<Query> queries = new ArrayList<>();
		for (JsonNode panel : panels(dashboard)) {
			for (JsonNode target : panel.path("targets")) {
				queries.add(new Query(panel.path("title").asString() + " / " + target.path("refId").asString(),
						target.path("expr").asString()));
			}
		}
		return queries;
	}

	/**
	 * Returns the queries of the dashboard's query variables ({@code label_values(...)}).
	 * @param dashboard the dashboard
	 * @return the queries, named after their variable
	 */
	static List<Query> variableQueries(JsonNode dashboard) {
		List<Query> queries = new ArrayList<>();
		for (JsonNode variable : dashboard.path("templating").path("list")) {
			if (variable.path("type").asString().equals("query")) {
				JsonNode query = variable.path("query");
				queries.add(new Query("variable " + variable.path("name").asString(),
						query.isObject() ? query.path("query").asString() : query.asString()));
			}
		}
		return queries;
	}

	private static Map<String, Object> yaml(Path file) throws IOException {
		try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
			return new Yaml().load(reader);
		}
	}

	private static Map<String, String> strings(Map<String, Object> map) {
		Map<String, String> strings = new LinkedHashMap<>();
		if (map != null) {
			map.forEach((key, value) -> strings.put(key, String.valueOf(value)));
		}
		return strings;
	}

	/**
	 * A recording or alerting rule.
	 *
	 * @param group the name of its group
	 * @param record the recorded series' name, for a recording rule
	 * @param alert the alert's name, for an alerting rule
	 * @param expr its expression
	 * @param forDuration how long an alert's condition must hold before it fires
	 * @param labels the labels it adds
	 * @param annotations an alert's annotations
	 */
	record Rule(String group, String record, String alert, String expr, String forDuration, Map<String, String> labels,
			Map<String, String> annotations) {

		String name() {
			return (this.alert != null) ? this.alert : this.record;
		}

	}

	/**
	 * One {@code alert_rule_test} entry of the rules' unit tests.
	 *
	 * @param test the name of the test it belongs to
	 * @param alertName the alert it checks
	 * @param expectedAlerts how many alerts it expects to fire (0: the alert must stay quiet)
	 */
	record AlertCheck(String test, String alertName, int expectedAlerts) {
	}

	/**
	 * A PromQL query of the dashboard.
	 *
	 * @param where the panel and target (or the variable) it belongs to
	 * @param expr the query, with Grafana's variables in it
	 */
	record Query(String where, String expr) {
	}

}
