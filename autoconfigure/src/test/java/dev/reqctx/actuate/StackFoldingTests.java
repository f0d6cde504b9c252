package dev.reqctx.actuate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link StackFolding}, on synthetic stacks shaped like those of a request blocked in
 * a JPA repository call.
 */
class StackFoldingTests {

	private static final StackFolding ACME = new StackFolding(List.of("com.acme.shop"));

	@Test
	void aStackShorterThanTheTopFramesIsShownAsItIs() {
		StackTraceElement[] trace = { frame("java.lang.Thread", "sleep"), frame("org.hibernate.Query", "list"),
				frame("com.acme.shop.Orders", "reserve") };
		assertThat(ACME.present(trace, StackMode.FOLDED)).containsExactly(strings(trace));
	}

	@Test
	void theTopFramesAreKeptWhateverTheirPackage() {
		StackTraceElement[] trace = new StackBuilder().add(12, "org.postgresql.core.PGStream", "receive").build();
		List<String> stack = ACME.present(trace, StackMode.FOLDED);
		assertThat(stack).hasSize(StackFolding.TOP_FRAMES + 1);
		assertThat(stack.subList(0, StackFolding.TOP_FRAMES))
			.containsExactly(strings(Arrays.copyOf(trace, StackFolding.TOP_FRAMES)));
		assertThat(stack.get(StackFolding.TOP_FRAMES)).isEqualTo("\u2026 2 frames in org.postgresql");
	}

	@Test
	void theTopFramesReachDownToTheFirstFrameOutsideTheJdk() {
		// A virtual thread parked in a socket read: the JDK's frames alone fill the first ten.
		StackTraceElement[] trace = new StackBuilder().add(1, "java.lang.VirtualThread", "park")
			.add(3, "jdk.internal.misc.VirtualThreads", "park")
			.add(6, "sun.nio.ch.NioSocketImpl", "read")
			.add(2, "java.net.Socket$SocketInputStream", "read")
			.add(1, "org.postgresql.core.PGStream", "receiveChar")
			.add(5, "org.postgresql.core.v3.QueryExecutorImpl", "execute")
			.build();
		List<String> stack = ACME.present(trace, StackMode.FOLDED);
		assertThat(stack.subList(0, 13)).containsExactly(strings(Arrays.copyOf(trace, 13)));
		assertThat(stack.subList(13, stack.size())).containsExactly("\u2026 5 frames in org.postgresql");
	}

	@Test
	void applicationFramesAndTheFramesTheyCalledAreKeptInOrderAndTheRunsBetweenThemFolded() {
		StackTraceElement[] trace = new StackBuilder().add(10, "sun.nio.ch.NioSocketImpl", "read")
			.add(6, "org.postgresql.jdbc.PgStatement", "execute")
			.add(2, "com.zaxxer.hikari.pool.ProxyStatement", "execute")
			.add(20, "org.hibernate.sql.exec.JdbcSelectExecutor", "executeQuery")
			.add(15, "org.springframework.data.jpa.repository.query.JpaQueryExecution", "execute")
			.add(1, "jdk.proxy2.$Proxy140", "lockById")
			.add(1, "com.acme.shop.OrderService", "reserve")
			.add(4, "org.springframework.transaction.interceptor.TransactionInterceptor", "invoke")
			.add(1, "com.acme.shop.OrderService$$SpringCGLIB$$0", "reserve")
			.add(1, "com.acme.shop.web.OrderController", "reserve")
			.add(3, "jdk.internal.reflect.DirectMethodHandleAccessor", "invoke")
			.add(1, "java.lang.reflect.Method", "invoke")
			.add(30, "org.springframework.web.servlet.DispatcherServlet", "doDispatch")
			.add(25, "org.apache.catalina.core.ApplicationFilterChain", "doFilter")
			.add(1, "java.lang.Thread", "run")
			.build();
		List<String> stack = ACME.present(trace, StackMode.FOLDED);
		// Ten frames of the JDK's socket read, and the first frame outside the JDK: the driver's.
		List<String> expected = new ArrayList<>(Arrays.asList(strings(Arrays.copyOf(trace, 11))));
		expected.add("\u2026 42 frames in org.postgresql, com.zaxxer, org.hibernate, org.springframework");
		expected.add("jdk.proxy2.$Proxy140.lockById($Proxy140.java:1)");
		expected.add("com.acme.shop.OrderService.reserve(OrderService.java:1)");
		expected.add("\u2026 4 frames in org.springframework");
		expected.add("com.acme.shop.OrderService$$SpringCGLIB$$0.reserve(OrderService.java:1)");
		expected.add("com.acme.shop.web.OrderController.reserve(OrderController.java:1)");
		expected.add("\u2026 60 frames in jdk.internal, java.lang, org.springframework, org.apache");
		assertThat(stack).containsExactlyElementsOf(expected);
	}

	@Test
	void aRunOfOneFrameIsKeptRatherThanFolded() {
		StackTraceElement[] trace = new StackBuilder().add(10, "com.zaxxer.hikari.pool.HikariPool", "getConnection")
			.add(1, "com.acme.shop.Orders", "wait")
			.add(1, "org.springframework.aop.Advice", "invoke")
			.add(1, "org.springframework.aop.Proxy", "invoke")
			.add(1, "com.acme.shop.Orders", "reserve")
			.add(1, "org.apache.catalina.Valve", "invoke")
			.build();
		assertThat(ACME.present(trace, StackMode.FOLDED)).containsExactly(strings(trace));
	}

	@Test
	void aFoldedLineNamesAtMostEightPackagesAndCountsTheOthers() {
		StackTraceElement[] trace = new StackBuilder().add(10, "com.zaxxer.hikari.pool.HikariPool", "getConnection")
			.add(1, "a.one.X", "m")
			.add(1, "b.two.X", "m")
			.add(1, "a.one.sub.Y", "m")
			.add(1, "c.three.X", "m")
			.add(1, "d.four.X", "m")
			.add(1, "e.five.X", "m")
			.add(1, "f.six.X", "m")
			.add(1, "g.seven.X", "m")
			.add(1, "h.eight.X", "m")
			.add(1, "i.nine.X", "m")
			.add(1, "j.ten.X", "m")
			.add(1, "Unpackaged", "m")
			.build();
		assertThat(ACME.present(trace, StackMode.FOLDED)).last()
			.isEqualTo("\u2026 12 frames in a.one, b.two, c.three, d.four, e.five, f.six, g.seven, h.eight and 3 more");
	}

	@Test
	void generatedClassesAreNotApplicationFramesEvenInTheApplicationsPackage() {
		StackTraceElement[] trace = new StackBuilder().add(10, "com.zaxxer.hikari.pool.HikariPool", "getConnection")
			.add(1, "com.acme.shop.Order$HibernateProxy$x1", "getId")
			.add(1, "com.acme.shop.OrderService$$SpringCGLIB$$0", "reserve")
			.add(1, "com.acme.shop.$Proxy12", "reserve")
			.add(1, "org.apache.catalina.Valve", "invoke")
			.build();
		assertThat(ACME.present(trace, StackMode.FOLDED)).last()
			.isEqualTo("\u2026 4 frames in com.acme, org.apache");
	}

	@Test
	void aPackageMatchesItselfAndItsSubPackagesOnly() {
		StackTraceElement[] trace = new StackBuilder().add(10, "com.zaxxer.hikari.pool.HikariPool", "getConnection")
			.add(2, "org.apache.catalina.Valve", "invoke")
			.add(1, "com.acme.shop.api.v2.OrderApi", "reserve")
			.add(1, "com.acme.shopping.Cart", "add")
			.add(1, "com.acme.shopfront.Page", "render")
			.add(2, "org.apache.catalina.Valve", "invoke")
			.build();
		assertThat(ACME.present(trace, StackMode.FOLDED).subList(10, 14)).containsExactly(
				"org.apache.catalina.Valve.invoke(Valve.java:1)", "org.apache.catalina.Valve.invoke(Valve.java:2)",
				"com.acme.shop.api.v2.OrderApi.reserve(OrderApi.java:1)", "\u2026 4 frames in com.acme, org.apache");
	}

	@Test
	void withoutKnownPackagesFramesOutsideWellKnownFrameworksAreTheApplications() {
		StackFolding heuristic = new StackFolding(List.of());
		StackTraceElement[] trace = new StackBuilder().add(10, "com.zaxxer.hikari.pool.HikariPool", "getConnection")
			.add(3, "org.hibernate.Query", "list")
			.add(2, "dev.reqctx.jdbc.ContextStatement", "execute")
			.add(1, "com.zaxxer.hikari.pool.ProxyStatement", "execute")
			.add(1, "com.acme.shop.OrderService", "reserve")
			.add(1, "com.acme.shop.OrderService$$SpringCGLIB$$0", "reserve")
			.add(2, "io.micrometer.observation.Observation", "observe")
			.add(1, "net.example.Handler", "handle")
			.add(2, "jakarta.servlet.http.HttpServlet", "service")
			.build();
		assertThat(heuristic.present(trace, StackMode.FOLDED).subList(10, 16)).containsExactly(
				"\u2026 5 frames in org.hibernate, dev.reqctx",
				"com.zaxxer.hikari.pool.ProxyStatement.execute(ProxyStatement.java:1)",
				"com.acme.shop.OrderService.reserve(OrderService.java:1)", "\u2026 2 frames in com.acme, io.micrometer",
				"io.micrometer.observation.Observation.observe(Observation.java:2)",
				"net.example.Handler.handle(Handler.java:1)");
		assertThat(new StackFolding(List.of(" ")).present(trace, StackMode.FOLDED))
			.as("a blank package (an application in the default package) is no package")
			.isEqualTo(heuristic.present(trace, StackMode.FOLDED));
	}

	@Test
	void theApplicationsPackagesWinOverTheFrameworkList() {
		StackFolding petclinic = new StackFolding(List.of("org.springframework.samples.petclinic"));
		StackTraceElement[] trace = new StackBuilder().add(10, "com.zaxxer.hikari.pool.HikariPool", "getConnection")
			.add(2, "org.springframework.data.Repo", "find")
			.add(1, "org.springframework.samples.petclinic.owner.OwnerController", "show")
			.add(2, "org.springframework.web.servlet.DispatcherServlet", "doDispatch")
			.build();
		assertThat(petclinic.present(trace, StackMode.FOLDED).subList(10, 14)).containsExactly(
				"org.springframework.data.Repo.find(Repo.java:1)",
				"org.springframework.data.Repo.find(Repo.java:2)",
				"org.springframework.samples.petclinic.owner.OwnerController.show(OwnerController.java:1)",
				"\u2026 2 frames in org.springframework");
	}

	@Test
	void fullShowsEveryFrameVerbatim() {
		StackTraceElement[] trace = new StackBuilder().add(150, "org.hibernate.Query", "list")
			.add(1, "com.acme.shop.OrderService", "reserve")
			.add(149, "org.apache.catalina.Valve", "invoke")
			.build();
		assertThat(ACME.present(trace, StackMode.FULL)).containsExactly(strings(trace));
	}

	@Test
	void fullStopsAtTheSafetyCapAndCountsTheRest() {
		StackTraceElement[] trace = new StackBuilder().add(2000, "org.hibernate.Query", "list").build();
		List<String> stack = ACME.present(trace, StackMode.FULL);
		assertThat(stack).hasSize(StackFolding.MAX_FRAMES + 1);
		assertThat(stack.subList(0, StackFolding.MAX_FRAMES))
			.containsExactly(strings(Arrays.copyOf(trace, StackFolding.MAX_FRAMES)));
		assertThat(stack).last().isEqualTo("\u2026 976 more frames");
	}

	@Test
	void foldedStopsAtTheSafetyCapToo() {
		// A runaway recursion in the application's code: nothing to fold.
		StackTraceElement[] trace = new StackBuilder().add(3000, "com.acme.shop.Tree", "walk").build();
		List<String> stack = ACME.present(trace, StackMode.FOLDED);
		assertThat(stack).hasSize(StackFolding.MAX_FRAMES + 1);
		assertThat(stack).last().isEqualTo("\u2026 1976 more frames");
	}

	@Test
	void anEmptyStackIsEmpty() {
		assertThat(ACME.present(new StackTraceElement[0], StackMode.FOLDED)).isEmpty();
		assertThat(ACME.present(new StackTraceElement[0], StackMode.FULL)).isEmpty();
	}

	private static StackTraceElement frame(String className, String method) {
		return frame(className, method, 1);
	}

	private static StackTraceElement frame(String className, String method, int line) {
		String simpleName = className.substring(className.lastIndexOf('.') + 1);
		String outer = simpleName.substring(0, Math.max(simpleName.indexOf('$'), 0));
		return new StackTraceElement(className, method, (outer.isEmpty() ? simpleName : outer) + ".java", line);
	}

	private static String[] strings(StackTraceElement[] trace) {
		return Arrays.stream(trace).map(StackTraceElement::toString).toArray(String[]::new);
	}

	/** Builds a stack innermost frame first; frames of one run differ by line number. */
	private static final class StackBuilder {

		private final List<StackTraceElement> frames = new ArrayList<>();

		StackBuilder add(int count, String className, String method) {
			for (int i = 1; i <= count; i++) {
				this.frames.add(frame(className, method, i));
			}
			return this;
		}

		StackTraceElement[] build() {
			return this.frames.toArray(StackTraceElement[]::new);
		}

	}

}
