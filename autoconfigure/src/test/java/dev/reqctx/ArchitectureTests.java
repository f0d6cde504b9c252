package dev.reqctx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The package rules of the design, checked on the compiled library: the core is plain Java, each
 * integration depends on the core and its own technology only, and only the auto-configuration
 * knows all of them.
 */
class ArchitectureTests {

	private static final String CORE = "dev.reqctx";

	private static final String SPI = "dev.reqctx.spi";

	private static final String[] INTEGRATIONS = { "dev.reqctx.web..", "dev.reqctx.jdbc..", "dev.reqctx.http..",
			"dev.reqctx.task..", "dev.reqctx.actuate..", "dev.reqctx.logging..", "dev.reqctx.tracing..",
			"dev.reqctx.work..", "dev.reqctx.grpc.." };

	private static JavaClasses library;

	@BeforeAll
	static void importLibrary() {
		library = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
			.importPackages(CORE);
	}

	@Test
	void theCoreAndItsSpiDependOnTheJdkOnly() {
		ArchRule rule = classes().that()
			.resideInAnyPackage(CORE, SPI)
			.should()
			.onlyDependOnClassesThat()
			.resideInAnyPackage(CORE, SPI, "java..", "org.jspecify..")
			.because("the core is the model and must be usable without Spring (DESIGN: JDK only)");
		rule.check(library);
	}

	@Test
	void noIntegrationKnowsTheAutoConfiguration() {
		noClasses().that()
			.resideInAnyPackage(INTEGRATIONS)
			.or()
			.resideInAnyPackage(CORE, SPI)
			.should()
			.dependOnClassesThat()
			.resideInAPackage("dev.reqctx.autoconfigure..")
			.because("library code and its wiring live apart, as in Spring Boot's own modules")
			.check(library);
	}

	@Test
	void onlyTheAutoConfigurationUsesSpringBootsAutoConfiguration() {
		noClasses().that()
			.resideOutsideOfPackage("dev.reqctx.autoconfigure..")
			.should()
			.dependOnClassesThat()
			.resideInAPackage("org.springframework.boot.autoconfigure..")
			.check(library);
	}

	@Test
	void theJdbcIntegrationDependsOnTheCoreAndJdbcOnly() {
		integration("dev.reqctx.jdbc..", "java.sql..", "javax.sql..", "javax.net..", "org.postgresql..",
				"com.zaxxer.hikari..");
	}

	@Test
	void theHttpIntegrationDependsOnTheCoreAndHttpClientsOnly() {
		integration("dev.reqctx.http..", "org.springframework.http..", "org.springframework.web.client..",
				"org.springframework.boot.http.client..", "org.springframework.util..", "org.apache.hc..",
				"org.eclipse.jetty..", "reactor..", "io.netty..",
				"org.springframework.web.reactive.function.client..", "org.springframework.core.io.buffer..",
				"org.reactivestreams..");
	}

	@Test
	void theGrpcIntegrationDependsOnTheCoreAndGrpcApiOnly() {
		integration("dev.reqctx.grpc..", "io.grpc..");
	}

	@Test
	void theTaskIntegrationDependsOnTheCoreAndExecutorsOnly() {
		integration("dev.reqctx.task..", "org.springframework.core.task..", "io.micrometer.context..");
	}

	@Test
	void theSchedulingIntegrationDependsOnTheCoreAndSpringAopOnly() {
		integration("dev.reqctx.work..", "org.aopalliance..", "org.springframework.aop..",
				"org.springframework.util..");
	}

	@Test
	void theWebIntegrationDependsOnTheCoreServletAndSpringWebOnly() {
		// Spring MVC's own context and beans: the exception resolver hands cancellations to the
		// application's handlers and messages.
		// Tomcat's connector and coyote: the client-gone detector finds a request's connection.
		integration("dev.reqctx.web..", "jakarta.servlet..", "org.springframework.web..",
				"org.springframework.http..", "org.springframework.core..", "org.springframework.util..",
				"org.springframework.context..", "org.springframework.beans..", "org.apache.catalina.connector..",
				"org.apache.coyote..", "org.apache.tomcat.util.net..");
	}

	@Test
	void integrationsDoNotDependOnEachOther() {
		for (String integration : INTEGRATIONS) {
			String[] others = Arrays.stream(INTEGRATIONS)
				.filter((other) -> !other.equals(integration))
				// Tracing customizes the web filter's contexts: that edge is by design.
				.filter((other) -> !(integration.equals("dev.reqctx.tracing..") && other.equals("dev.reqctx.web..")))
				.toArray(String[]::new);
			noClasses().that()
				.resideInAPackage(integration)
				.should()
				.dependOnClassesThat()
				.resideInAnyPackage(others)
				.check(library);
		}
	}

	private static void integration(String pkg, String... technology) {
		List<String> allowed = new ArrayList<>(List.of(pkg, CORE, SPI, "java..", "org.jspecify.."));
		allowed.addAll(List.of(technology));
		classes().that()
			.resideInAPackage(pkg)
			.should()
			.onlyDependOnClassesThat()
			.resideInAnyPackage(allowed.toArray(String[]::new))
			.check(library);
	}

}
