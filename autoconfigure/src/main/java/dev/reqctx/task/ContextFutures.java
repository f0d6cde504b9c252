package dev.reqctx.task;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

import dev.reqctx.RequestContext;

/**
 * {@link CompletableFuture} helpers that run the work in a child of the calling context, like
 * {@code supplyAsync} and {@code runAsync}. If the context is cancelled before the work starts,
 * the future completes exceptionally with the context's {@code ContextCancelledException}
 * (wrapped in a {@code CompletionException} by {@code join()}) and the work never runs.
 *
 * <pre>
 * CompletableFuture&lt;Price&gt; price = ContextFutures.supplyAsync(() -&gt; pricing.quote(id), pool);
 * CompletableFuture&lt;Stock&gt; stock = ContextFutures.supplyAsync(() -&gt; inventory.check(id), pool);
 * return price.thenCombine(stock, Offer::new).join();
 * </pre>
 *
 * Use them with plain executors; an executor that is already wrapped (or decorated by reqctx)
 * would add a second child per task.
 */
public final class ContextFutures {

	private ContextFutures() {
	}

	/**
	 * Runs a supplier asynchronously in a child of the current context.
	 * @param supplier the work
	 * @param executor where to run it
	 * @param <T> the result type
	 * @return the future result
	 */
	public static <T> CompletableFuture<T> supplyAsync(Supplier<T> supplier, Executor executor) {
		Objects.requireNonNull(executor, "executor must not be null");
		return CompletableFuture.supplyAsync(TaskWrapper.of(RequestContext.current()).wrapSupplier(supplier, "supplyAsync"), executor);
	}

	/**
	 * Runs a runnable asynchronously in a child of the current context.
	 * @param runnable the work
	 * @param executor where to run it
	 * @return a future that completes when the work is done
	 */
	public static CompletableFuture<Void> runAsync(Runnable runnable, Executor executor) {
		Objects.requireNonNull(runnable, "runnable must not be null");
		Supplier<Void> supplier = TaskWrapper.of(RequestContext.current()).wrapSupplier(() -> {
			runnable.run();
			return null;
		}, "runAsync");
		return CompletableFuture.supplyAsync(supplier, executor);
	}

}
