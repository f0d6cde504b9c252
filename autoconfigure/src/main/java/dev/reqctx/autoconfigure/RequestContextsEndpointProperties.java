package dev.reqctx.autoconfigure;

import java.util.HashSet;
import java.util.Set;

import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.actuate.endpoint.Show;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration properties for the {@code requestcontexts} actuator endpoint.
 */
@ConfigurationProperties("management.endpoint.requestcontexts")
public class RequestContextsEndpointProperties implements InitializingBean {

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
	 * When to show unsanitized context values.
	 */
	private Show showValues = Show.NEVER;

	/**
	 * Roles used to determine whether a user is authorized to be shown unsanitized values. When
	 * empty, all authenticated users are authorized.
	 */
	private final Set<String> roles = new HashSet<>();

	/**
	 * How many requests the list shows when the caller gives no "limit" parameter.
	 */
	private int defaultLimit = 100;

	/**
	 * How many requests the list shows at most, whatever "limit" the caller asks for.
	 */
	private int maxLimit = 1000;

	public Show getShowValues() {
		return this.showValues;
	}

	public void setShowValues(Show showValues) {
		this.showValues = showValues;
	}

	public Set<String> getRoles() {
		return this.roles;
	}

	public int getDefaultLimit() {
		return this.defaultLimit;
	}

	public void setDefaultLimit(int defaultLimit) {
		this.defaultLimit = defaultLimit;
	}

	public int getMaxLimit() {
		return this.maxLimit;
	}

	public void setMaxLimit(int maxLimit) {
		this.maxLimit = maxLimit;
	}

}
