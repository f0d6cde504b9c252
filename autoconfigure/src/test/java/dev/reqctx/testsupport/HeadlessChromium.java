package dev.reqctx.testsupport;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Debian's {@code chromium} run headless as a process: loads one page, lets its scripts run for
 * a stretch of virtual time, and hands back the DOM as it is then (and a screenshot, when asked).
 *
 * <p>A test that needs it fails, never skips, when there is no browser: run
 * {@code scripts/install-chromium.sh}, or point {@code REQCTX_CHROMIUM} at a Chromium binary.
 */
public final class HeadlessChromium {

	/**
	 * How long one run may take in real time, whatever the virtual time budget: a few seconds
	 * usually, over ten on two cores that other builds keep busy.
	 */
	private static final Duration TIMEOUT = Duration.ofSeconds(60);

	private static final AtomicInteger RUNS = new AtomicInteger();

	private final String executable;

	private HeadlessChromium(String executable) {
		this.executable = executable;
	}

	/**
	 * Finds the browser.
	 * @return the browser
	 * @throws AssertionError if there is none, saying how to install it
	 */
	public static HeadlessChromium find() {
		String configured = System.getenv("REQCTX_CHROMIUM");
		if (configured != null && !configured.isBlank()) {
			if (!new File(configured).canExecute()) {
				throw new AssertionError("REQCTX_CHROMIUM=" + configured + " is not an executable");
			}
			return new HeadlessChromium(configured);
		}
		String path = System.getenv("PATH");
		for (String dir : (path != null) ? path.split(File.pathSeparator) : new String[0]) {
			File candidate = new File(dir, "chromium");
			if (candidate.isFile() && candidate.canExecute()) {
				return new HeadlessChromium(candidate.getPath());
			}
		}
		throw new AssertionError("No chromium on the PATH: run scripts/install-chromium.sh "
				+ "(or set REQCTX_CHROMIUM to a Chromium binary)");
	}

	/**
	 * Loads a page and returns its DOM once the page has had the given virtual time: timers fire
	 * as if that much time had passed, while network requests complete in real time.
	 * @param url the page
	 * @param port the server's port, allowed even if Chromium counts it as unsafe
	 * @param virtualTime how long the page's scripts get
	 * @param screenshot where to write a PNG of the window (1280x800), or {@code null}
	 * @param workDir a folder for the throwaway profile and the browser's output
	 * @return the serialized DOM
	 * @throws IOException if the browser cannot be run
	 * @throws InterruptedException if interrupted while waiting for it
	 */
	public String load(String url, int port, Duration virtualTime, Path screenshot, Path workDir)
			throws IOException, InterruptedException {
		int run = RUNS.incrementAndGet();
		Path profile = Files.createTempDirectory(workDir, "chromium-profile");
		Path out = workDir.resolve("chromium-" + run + ".out");
		Path err = workDir.resolve("chromium-" + run + ".err");
		List<String> command = new ArrayList<>(List.of(this.executable, "--headless=new",
				// The build may run as root, where Chromium's sandbox cannot start.
				"--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=" + profile,
				"--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
				"--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
				"--explicitly-allowed-ports=" + port, "--window-size=1280,800", "--lang=en-US",
				"--virtual-time-budget=" + virtualTime.toMillis()));
		if (screenshot != null) {
			command.add("--screenshot=" + screenshot.toAbsolutePath());
		}
		command.add("--dump-dom");
		command.add(url);
		Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
		try {
			if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
				throw new AssertionError("chromium did not finish within " + TIMEOUT + "; its output is in " + err);
			}
		}
		finally {
			if (process.isAlive()) {
				// Its renderer and helper processes first: they would outlive a killed parent.
				process.descendants().forEach(ProcessHandle::destroyForcibly);
				process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
			}
			deleteRecursively(profile);
		}
		String dom = Files.readString(out, StandardCharsets.UTF_8);
		if (process.exitValue() != 0 || dom.isBlank()) {
			throw new AssertionError("chromium exited with " + process.exitValue() + " and "
					+ (dom.isBlank() ? "no DOM" : "a DOM") + "; its output is in " + err);
		}
		return dom;
	}

	private static void deleteRecursively(Path dir) throws IOException {
		try (Stream<Path> paths = Files.walk(dir)) {
			for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
				Files.deleteIfExists(path);
			}
		}
	}

}
