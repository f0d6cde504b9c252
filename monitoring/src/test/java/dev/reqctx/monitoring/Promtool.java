package dev.reqctx.monitoring;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs Prometheus's {@code promtool} from the {@code PATH}, each call bounded by a timeout.
 *
 * <p>There is no fallback: when promtool is missing, {@link #run} throws an
 * {@link AssertionError} that says how to install it, so a test that needs it fails instead of
 * passing without having checked anything.
 */
final class Promtool {

	/** Longer than any promtool run here takes on two loaded cores (well under a second each). */
	static final Duration TIMEOUT = Duration.ofSeconds(60);

	private final Path executable;

	private Promtool(Path executable) {
		this.executable = executable;
	}

	/**
	 * Finds promtool on the {@code PATH}.
	 * @return the tool
	 * @throws AssertionError if it is not installed
	 */
	static Promtool find() {
		String path = System.getenv("PATH");
		if (path != null) {
			for (String dir : path.split(File.pathSeparator)) {
				if (dir.isEmpty()) {
					continue;
				}
				Path candidate = Path.of(dir, "promtool");
				if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
					return new Promtool(candidate);
				}
			}
		}
		throw new AssertionError("promtool (Prometheus's rule checker) is not on the PATH (" + path + "). "
				+ "Run scripts/install-promtool.sh (as root; it installs Debian's prometheus package) and run the tests again.");
	}

	/**
	 * Runs promtool in a directory and waits for it, at most {@link #TIMEOUT}.
	 * @param directory the working directory
	 * @param arguments promtool's arguments
	 * @return its exit code and output (standard output and error, interleaved)
	 * @throws IOException if it cannot be started or its output read
	 * @throws InterruptedException if interrupted while waiting
	 * @throws AssertionError if it does not finish in time (it is killed)
	 */
	Result run(Path directory, String... arguments) throws IOException, InterruptedException {
		List<String> command = new ArrayList<>();
		command.add(this.executable.toString());
		command.addAll(List.of(arguments));
		Path output = Files.createTempFile("promtool", ".out");
		try {
			Process process = new ProcessBuilder(command).directory(directory.toFile())
				.redirectErrorStream(true)
				.redirectOutput(output.toFile())
				.start();
			// promtool reads no input; a closed stdin makes sure it never waits for any.
			process.getOutputStream().close();
			if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
				process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
				throw new AssertionError(String.join(" ", command) + " did not finish within " + TIMEOUT
						+ "; its output so far:\n" + Files.readString(output, StandardCharsets.UTF_8));
			}
			return new Result(String.join(" ", command), process.exitValue(),
					Files.readString(output, StandardCharsets.UTF_8));
		}
		finally {
			Files.deleteIfExists(output);
		}
	}

	/**
	 * What a promtool run did.
	 *
	 * @param command the command line
	 * @param exitCode its exit code
	 * @param output what it printed
	 */
	record Result(String command, int exitCode, String output) {

		@Override
		public String toString() {
			return "$ " + this.command + "\n(exit code " + this.exitCode + ")\n" + this.output;
		}

	}

}
