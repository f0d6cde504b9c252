package dev.reqctx.monitoring;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough reading of PromQL to check the names in an expression: the reqctx metrics it
 * selects with their label matchers, the recorded series it uses, the labels it groups or
 * matches on, and the Grafana variables in it. Whether an expression is valid PromQL is
 * promtool's job, not this class's.
 */
final class Promql {

	/** A reqctx metric name that is not part of a longer name (recorded series have colons). */
	private static final Pattern SELECTOR = Pattern
		.compile("(?<![\\w:])(reqctx_[A-Za-z0-9_]*)(?![\\w:])(\\s*\\{([^}]*)\\})?");

	private static final Pattern MATCHER = Pattern
		.compile("([A-Za-z_][A-Za-z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

	/** A recording rule's name: level:metric:operations. */
	private static final Pattern RECORDED = Pattern.compile("(?<![\\w:])([A-Za-z_][A-Za-z0-9_]*:[A-Za-z0-9_:]*)");

	private static final Pattern GROUPING = Pattern
		.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\(([^)]*)\\)");

	private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");

	/** {@code $name} or {@code ${name}}, as Grafana writes its variables. */
	private static final Pattern VARIABLE = Pattern.compile("\\$\\{?([A-Za-z_][A-Za-z0-9_]*)\\}?");

	private Promql() {
	}

	/**
	 * Returns the reqctx metrics an expression selects, in order.
	 * @param expr the expression
	 * @return its selectors
	 */
	static List<Selector> selectors(String expr) {
		List<Selector> selectors = new ArrayList<>();
		Matcher selector = SELECTOR.matcher(expr);
		while (selector.find()) {
			List<LabelMatcher> matchers = new ArrayList<>();
			if (selector.group(3) != null) {
				Matcher matcher = MATCHER.matcher(selector.group(3));
				while (matcher.find()) {
					matchers.add(new LabelMatcher(matcher.group(1), matcher.group(2), matcher.group(3)));
				}
			}
			selectors.add(new Selector(selector.group(1), matchers));
		}
		return selectors;
	}

	/**
	 * Returns the recorded series (names with colons) an expression uses.
	 * @param expr the expression
	 * @return their names
	 */
	static Set<String> recordedSeries(String expr) {
		return find(RECORDED, withoutStrings(expr));
	}

	/**
	 * Returns the labels an expression aggregates by or matches on ({@code by}, {@code without},
	 * {@code on}, {@code ignoring}, {@code group_left}, {@code group_right}).
	 * @param expr the expression
	 * @return the label names
	 */
	static Set<String> groupingLabels(String expr) {
		Set<String> labels = new LinkedHashSet<>();
		Matcher grouping = GROUPING.matcher(withoutStrings(expr));
		while (grouping.find()) {
			for (String label : grouping.group(1).split(",")) {
				if (!label.isBlank()) {
					labels.add(label.strip());
				}
			}
		}
		return labels;
	}

	/**
	 * Returns the Grafana variables an expression uses.
	 * @param expr the expression
	 * @return their names, without {@code $}
	 */
	static Set<String> variables(String expr) {
		return find(VARIABLE, expr);
	}

	/**
	 * Replaces each Grafana variable by a value, as Grafana does before it sends the query.
	 * @param expr the expression
	 * @param values a value for each variable the expression uses
	 * @return the expression Prometheus would get
	 * @throws IllegalArgumentException if the expression uses a variable without a value
	 */
	static String substitute(String expr, Map<String, String> values) {
		Matcher variable = VARIABLE.matcher(expr);
		StringBuilder result = new StringBuilder();
		while (variable.find()) {
			String value = values.get(variable.group(1));
			if (value == null) {
				throw new IllegalArgumentException("No value for $" + variable.group(1) + " in " + expr);
			}
			variable.appendReplacement(result, Matcher.quoteReplacement(value));
		}
		variable.appendTail(result);
		return result.toString();
	}

	private static String withoutStrings(String expr) {
		return STRING.matcher(expr).replaceAll("\"\"");
	}

	private static Set<String> find(Pattern pattern, String text) {
		Set<String> found = new LinkedHashSet<>();
		Matcher matcher = pattern.matcher(text);
		while (matcher.find()) {
			found.add(matcher.group(1));
		}
		return found;
	}

	/**
	 * A metric selected by an expression.
	 *
	 * @param metric the metric name
	 * @param matchers its label matchers
	 */
	record Selector(String metric, List<LabelMatcher> matchers) {
	}

	/**
	 * One label matcher of a selector.
	 *
	 * @param label the label name
	 * @param operator {@code =}, {@code !=}, {@code =~} or {@code !~}
	 * @param value the value or regular expression, unquoted
	 */
	record LabelMatcher(String label, String operator, String value) {

		/**
		 * Returns the values this matcher names literally: the value of {@code =}/{@code !=}, each
		 * alternative of a regular expression made of plain alternatives ({@code jdbc|http}).
		 * @return the values, empty for any other regular expression or a Grafana variable
		 */
		List<String> literalValues() {
			if (this.value.contains("$")) {
				return List.of();
			}
			if (this.operator.equals("=") || this.operator.equals("!=")) {
				return List.of(this.value);
			}
			if (this.value.matches("[A-Za-z0-9_.+\\-]+(\\|[A-Za-z0-9_.+\\-]+)*")) {
				return List.of(this.value.split("\\|"));
			}
			return List.of();
		}

	}

}
