package dev.reqctx;

/**
 * The binding of a {@link RequestContext} to a thread, from {@link RequestContext#attach()}
 * until {@link #close()}. Closing restores the context that was bound before.
 *
 * <p>Scopes must be closed on the thread that opened them, innermost first; use
 * try-with-resources. Misuse is detected and reported through {@link ContextDiagnostics}, and
 * never leaves the thread with a wrong binding:
 * <ul>
 * <li>closing on another thread does nothing to either thread;
 * <li>closing an outer scope while inner ones are open unwinds the inner ones too, and their
 * later close does nothing;
 * <li>closing twice does nothing the second time.
 * </ul>
 */
public final class Scope implements AutoCloseable {

	/** Per-thread binding; a mutable holder so attach and close cost one thread-local lookup. */
	private static final ThreadLocal<Binding> BINDING = new ThreadLocal<>();

	private final Binding binding;

	private final RequestContext attached;

	private final RequestContext previous;

	private final int depth;

	private boolean closed;

	private Scope(Binding binding, RequestContext attached, RequestContext previous, int depth) {
		this.binding = binding;
		this.attached = attached;
		this.previous = previous;
		this.depth = depth;
	}

	static RequestContext currentOrNull() {
		Binding binding = BINDING.get();
		return (binding != null) ? binding.context : null;
	}

	static Binding currentBinding() {
		return BINDING.get();
	}

	/** Returns the current thread's binding, making it if the thread has none. */
	static Binding bindingOfCurrentThread() {
		Binding binding = BINDING.get();
		if (binding == null) {
			binding = new Binding();
			BINDING.set(binding);
		}
		return binding;
	}

	static Scope attach(RequestContext context) {
		Binding binding = bindingOfCurrentThread();
		RequestContext previous = binding.context;
		int depth = ++binding.depth;
		binding.context = context;
		if (diagnosticsOf(context).strict) {
			ContextDiagnostics.recordAttach(binding, depth);
		}
		return new Scope(binding, context, previous, depth);
	}

	/** Reports go to the runtime of the context concerned; the root's is the global one. */
	static ContextDiagnostics diagnosticsOf(RequestContext context) {
		CancellableContext s = (context != null) ? context.scope() : null;
		return ((s != null) ? s.runtime : ContextRuntime.global()).diagnostics;
	}

	/**
	 * Returns the context this scope bound.
	 * @return the attached context
	 */
	public RequestContext context() {
		return this.attached;
	}

	/**
	 * Restores the context that was bound when this scope was opened.
	 */
	@Override
	public void close() {
		Binding binding = BINDING.get();
		if (binding != this.binding) {
			diagnosticsOf(this.attached).misuse("Scope of " + this.attached + " closed on thread '"
					+ Thread.currentThread().getName() + "', not on the thread that attached it; ignored");
			return;
		}
		if (this.closed) {
			diagnosticsOf(this.attached).misuse("Scope of " + this.attached + " closed twice; ignored");
			return;
		}
		this.closed = true;
		int current = binding.depth;
		if (current == this.depth && binding.context == this.attached) {
			restore(binding);
			return;
		}
		if (current > this.depth) {
			diagnosticsOf(this.attached).misuse("Scope of " + this.attached + " closed out of order: " + (current - this.depth)
					+ " inner scope(s) still open; they were closed too");
			restore(binding);
			return;
		}
		diagnosticsOf(this.attached).misuse("Scope of " + this.attached
				+ " closed after an enclosing scope was already closed; ignored");
	}

	private void restore(Binding binding) {
		binding.context = this.previous;
		binding.depth = this.depth - 1;
		if (diagnosticsOf(this.attached).strict) {
			ContextDiagnostics.recordDetach(binding, this.depth - 1);
		}
	}

	/**
	 * Returns whether a context other than the root is bound to the calling thread; pooled
	 * threads should answer {@code false} between tasks.
	 * @return {@code true} if a context is bound
	 */
	public static boolean isAnyBound() {
		return currentOrNull() != null;
	}

	/** The calling thread's binding. Only ever touched by its own thread. */
	static final class Binding {

		RequestContext context;

		int depth;

		/** Strict mode only: where each open level was attached. */
		Throwable[] attachSites;

		/** Where the thread registers a live root: see {@link LiveContexts}. */
		LiveContexts.Home home;

	}

}
