package dev.reqctx;

import java.util.Objects;

/**
 * A typed key for a value carried by a {@link RequestContext}.
 *
 * <p>Keys are compared by identity, so two keys with the same name are different keys. Hold them
 * in {@code static final} fields:
 *
 * <pre>
 * static final ContextKey&lt;String&gt; TENANT = ContextKey.named("tenant");
 *
 * try (Scope scope = RequestContext.current().withValue(TENANT, "acme").attach()) {
 *     String tenant = TENANT.get(); // "acme"
 * }
 * </pre>
 *
 * Values should be immutable: a context is shared by every thread its work runs on.
 *
 * @param <T> the type of the value
 */
public final class ContextKey<T> {

	private final String name;

	/** Left out of {@link RequestContext#values()}, so out of the live tree and every view of it. */
	private final boolean hidden;

	private ContextKey(String name, boolean hidden) {
		this.name = Objects.requireNonNull(name, "name must not be null");
		this.hidden = hidden;
	}

	/**
	 * Creates a new key. The name is for display (logs, the actuator endpoint) only.
	 * @param name a short, human readable name
	 * @param <T> the type of the value
	 * @return a new key, distinct from every other key
	 */
	public static <T> ContextKey<T> named(String name) {
		return new ContextKey<>(name, false);
	}

	/** A key of an integration's own: readable by its holder only, never listed. */
	static <T> ContextKey<T> hidden(String name) {
		return new ContextKey<>(name, true);
	}

	boolean isHidden() {
		return this.hidden;
	}

	/**
	 * Returns this key's value in the {@linkplain RequestContext#current() current} context.
	 * @return the value, or {@code null} if the current context has none
	 */
	public T get() {
		return RequestContext.current().get(this);
	}

	/**
	 * Returns this key's value in the given context.
	 * @param context the context to read
	 * @return the value, or {@code null} if the context has none
	 */
	public T get(RequestContext context) {
		return context.get(this);
	}

	/**
	 * Returns the display name of this key.
	 * @return the name given to {@link #named(String)}
	 */
	public String name() {
		return this.name;
	}

	@Override
	public String toString() {
		return this.name;
	}

}
