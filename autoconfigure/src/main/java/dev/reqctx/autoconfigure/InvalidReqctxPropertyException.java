package dev.reqctx.autoconfigure;

import org.jspecify.annotations.Nullable;

/**
 * A {@code reqctx.*} (or {@code management.endpoint.requestcontexts.*}) property has a value
 * reqctx cannot use. Thrown at start-up; {@link InvalidReqctxPropertyFailureAnalyzer} turns it
 * into Spring Boot's "APPLICATION FAILED TO START" report with what to change.
 */
public final class InvalidReqctxPropertyException extends IllegalArgumentException {

	private final String property;

	private final @Nullable Object value;

	private final String requirement;

	private final String action;

	/**
	 * Creates a new exception.
	 * @param property the property's name, as a user writes it
	 * @param value the value it has
	 * @param requirement what the value must be, as in "must be at least 1"
	 * @param action what to change
	 */
	public InvalidReqctxPropertyException(String property, @Nullable Object value, String requirement, String action) {
		this(property, value, requirement, action, null);
	}

	/**
	 * Creates a new exception.
	 * @param property the property's name, as a user writes it
	 * @param value the value it has
	 * @param requirement what the value must be, as in "must be at least 1"
	 * @param action what to change
	 * @param cause why the value was rejected, may be {@code null}
	 */
	public InvalidReqctxPropertyException(String property, @Nullable Object value, String requirement, String action,
			@Nullable Throwable cause) {
		super(property + " " + requirement + ", but was " + describe(value), cause);
		this.property = property;
		this.value = value;
		this.requirement = requirement;
		this.action = action;
	}

	static String describe(@Nullable Object value) {
		return (value instanceof String) ? "'" + value + "'" : String.valueOf(value);
	}

	/**
	 * Returns the property's name.
	 * @return the name
	 */
	public String getProperty() {
		return this.property;
	}

	/**
	 * Returns the value that was rejected.
	 * @return the value, may be {@code null}
	 */
	public @Nullable Object getValue() {
		return this.value;
	}

	/**
	 * Returns what the value must be.
	 * @return the requirement
	 */
	public String getRequirement() {
		return this.requirement;
	}

	/**
	 * Returns what to change.
	 * @return the action
	 */
	public String getAction() {
		return this.action;
	}

}
