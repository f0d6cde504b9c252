package dev.reqctx.monitoring;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The samples of one scrape of a Prometheus endpoint, in the text format or OpenMetrics.
 */
final class Scrape {

	private final String format;

	private final List<Sample> samples;

	private Scrape(String format, List<Sample> samples) {
		this.format = format;
		this.samples = samples;
	}

	/**
	 * Reads the samples of a scrape; comment lines ({@code # TYPE}, {@code # HELP}, {@code # EOF})
	 * are left out.
	 * @param format what the endpoint said it sent (its content type)
	 * @param body the scrape
	 * @return the samples
	 * @throws IllegalArgumentException if a line is not a sample
	 */
	static Scrape parse(String format, String body) {
		List<Sample> samples = new ArrayList<>();
		for (String line : body.split("\n")) {
			if (!line.isBlank() && !line.startsWith("#")) {
				samples.add(sample(line));
			}
		}
		return new Scrape(format, samples);
	}

	/**
	 * Returns what the endpoint said it sent.
	 * @return its content type
	 */
	String format() {
		return this.format;
	}

	/**
	 * Returns the names of the samples whose name starts with a prefix.
	 * @param prefix the prefix
	 * @return their names, sorted
	 */
	Set<String> names(String prefix) {
		return this.samples.stream()
			.map(Sample::name)
			.filter((name) -> name.startsWith(prefix))
			.collect(Collectors.toCollection(TreeSet::new));
	}

	/**
	 * Returns whether a sample with this name and these labels (among others) is in the scrape.
	 * @param name the sample name
	 * @param labels label names and values, in pairs
	 * @return whether it is
	 */
	boolean has(String name, String... labels) {
		return this.samples.stream().anyMatch((sample) -> sample.name().equals(name) && sample.has(labels));
	}

	/**
	 * Returns the sum of the values of the samples with this name and these labels (among
	 * others).
	 * @param name the sample name
	 * @param labels label names and values, in pairs
	 * @return the sum, 0 when there is no such sample
	 */
	double sum(String name, String... labels) {
		return this.samples.stream()
			.filter((sample) -> sample.name().equals(name) && sample.has(labels))
			.mapToDouble(Sample::value)
			.sum();
	}

	/**
	 * Returns the label names of the samples with this name.
	 * @param name the sample name
	 * @return the label names, sorted
	 */
	Set<String> labels(String name) {
		return this.samples.stream()
			.filter((sample) -> sample.name().equals(name))
			.flatMap((sample) -> sample.labels().keySet().stream())
			.collect(Collectors.toCollection(TreeSet::new));
	}

	/**
	 * Returns the values a label takes on the samples with this name.
	 * @param name the sample name
	 * @param label the label name
	 * @return its values, sorted
	 */
	Set<String> values(String name, String label) {
		return this.samples.stream()
			.filter((sample) -> sample.name().equals(name))
			.map((sample) -> sample.labels().get(label))
			.filter((value) -> value != null)
			.collect(Collectors.toCollection(TreeSet::new));
	}

	private static Sample sample(String line) {
		int i = 0;
		while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
			i++;
		}
		String name = line.substring(0, i);
		Map<String, String> labels = new LinkedHashMap<>();
		if (i < line.length() && line.charAt(i) == '{') {
			i++;
			while (line.charAt(i) != '}') {
				int equals = line.indexOf('=', i);
				String label = line.substring(i, equals).strip();
				if (line.charAt(equals + 1) != '"') {
					throw new IllegalArgumentException("Not a sample: " + line);
				}
				StringBuilder value = new StringBuilder();
				int j = equals + 2;
				while (line.charAt(j) != '"') {
					char c = line.charAt(j);
					if (c == '\\') {
						j++;
						c = (line.charAt(j) == 'n') ? '\n' : line.charAt(j);
					}
					value.append(c);
					j++;
				}
				labels.put(label, value.toString());
				i = j + 1;
				if (line.charAt(i) == ',') {
					i++;
				}
			}
			i++;
		}
		String[] rest = line.substring(i).strip().split(" ");
		if (name.isEmpty() || rest.length == 0 || rest[0].isEmpty()) {
			throw new IllegalArgumentException("Not a sample: " + line);
		}
		return new Sample(name, labels, Double.parseDouble(rest[0].replace("Inf", "Infinity")));
	}

	/**
	 * One sample line.
	 *
	 * @param name the sample name
	 * @param labels its labels
	 * @param value its value
	 */
	record Sample(String name, Map<String, String> labels, double value) {

		boolean has(String... pairs) {
			return Arrays.stream(pairsOf(pairs)).allMatch((pair) -> pair[1].equals(this.labels.get(pair[0])));
		}

		private static String[][] pairsOf(String... pairs) {
			String[][] result = new String[pairs.length / 2][];
			for (int i = 0; i < pairs.length; i += 2) {
				result[i / 2] = new String[] { pairs[i], pairs[i + 1] };
			}
			return result;
		}

	}

}
