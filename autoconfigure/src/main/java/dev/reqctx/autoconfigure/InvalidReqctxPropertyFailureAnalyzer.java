package dev.reqctx.autoconfigure;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.origin.Origin;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;

/**
 * Reports an {@link InvalidReqctxPropertyException} as Spring Boot reports its own bad
 * configuration: the property, its value and where it was set, why it cannot be used, and what
 * to change.
 */
final class InvalidReqctxPropertyFailureAnalyzer extends AbstractFailureAnalyzer<InvalidReqctxPropertyException> {

	private final @Nullable ConfigurableEnvironment environment;

	InvalidReqctxPropertyFailureAnalyzer(Environment environment) {
		this.environment = (environment instanceof ConfigurableEnvironment configurable) ? configurable : null;
	}

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, InvalidReqctxPropertyException cause) {
		ConfigurationProperty set = find(cause.getProperty());
		// The value as the user wrote it ("0s"), not as it was bound (PT0S), when it is known.
		Object value = (set != null && set.getName().toString().equals(cause.getProperty())) ? set.getValue()
				: cause.getValue();
		StringBuilder description = new StringBuilder();
		description.append("Invalid value ")
			.append(InvalidReqctxPropertyException.describe(value))
			.append(" for configuration property '")
			.append(cause.getProperty())
			.append("'");
		Origin origin = (set != null) ? set.getOrigin() : null;
		if (origin != null) {
			description.append(" (originating from '").append(origin).append("')");
		}
		description.append(": it ").append(cause.getRequirement()).append('.');
		if (cause.getCause() != null && cause.getCause().getMessage() != null) {
			description.append(System.lineSeparator())
				.append(System.lineSeparator())
				.append("Reason: ")
				.append(cause.getCause().getMessage());
		}
		return new FailureAnalysis(description.toString(), cause.getAction(), cause);
	}

	/**
	 * What was set and where: the property itself, else (for an element of a list or map
	 * written as one value) its parent, else the first entry under it.
	 */
	private @Nullable ConfigurationProperty find(String property) {
		ConfigurationProperty found = find(ConfigurationPropertyName.ofIfValid(property));
		if (found == null && property.endsWith("]") && property.indexOf('[') > 0) {
			found = find(ConfigurationPropertyName.ofIfValid(property.substring(0, property.lastIndexOf('['))));
		}
		return found;
	}

	private @Nullable ConfigurationProperty find(@Nullable ConfigurationPropertyName name) {
		if (name == null || this.environment == null) {
			return null;
		}
		for (ConfigurationPropertySource source : ConfigurationPropertySources.get(this.environment)) {
			ConfigurationProperty found = source.getConfigurationProperty(name);
			if (found != null) {
				return found;
			}
			if (source instanceof IterableConfigurationPropertySource iterable) {
				for (ConfigurationPropertyName candidate : iterable) {
					if (name.isAncestorOf(candidate)) {
						ConfigurationProperty entry = iterable.getConfigurationProperty(candidate);
						if (entry != null) {
							return entry;
						}
					}
				}
			}
		}
		return null;
	}

}
