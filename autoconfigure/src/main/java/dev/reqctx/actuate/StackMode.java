package dev.reqctx.actuate;

/**
 * How the {@code requestcontexts} endpoint shows the stack of the thread running a request.
 */
public enum StackMode {

	/**
	 * The frames where the thread is blocked and every frame of the application verbatim, each
	 * run of framework frames in between folded into one line that counts them and names their
	 * packages.
	 */
	FOLDED,

	/**
	 * Every frame verbatim, up to a safety cap of 1024 frames.
	 */
	FULL

}
