package dev.reqctx.autoconfigure;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import dev.reqctx.actuate.StackMode;

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

	/**
	 * How one context's view shows the stack of the thread running it, unless the caller asks
	 * with "?stack=": "folded" keeps the top frames, the application's frames and the frames they
	 * called, and folds each run of other frames into one line; "full" shows every frame.
	 */
	private StackMode stack = StackMode.FOLDED;

	/**
	 * Packages (with their sub-packages) whose frames a folded stack keeps, in addition to the
	 * application's auto-configuration packages (that of the @SpringBootApplication class).
	 */
	private final List<String> applicationPackages = new ArrayList<>();

	/**
	 * The live view: an HTML page of the live tree for browsers.
	 */
	private final Html html = new Html();

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

	public StackMode getStack() {
		return this.stack;
	}

	public void setStack(StackMode stack) {
		this.stack = stack;
	}

	public List<String> getApplicationPackages() {
		return this.applicationPackages;
	}

	public Html getHtml() {
		return this.html;
	}

	/**
	 * The live view: the endpoint's list as an HTML page that refreshes itself, for a browser
	 * asking the endpoint's path for text/html.
	 */
	public static class Html {

		/**
		 * Whether a browser asking for text/html gets the live view instead of JSON. The page
		 * reads the endpoint's JSON from the same path, so the same security and masking apply.
		 */
		private boolean enabled;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

	}

}
