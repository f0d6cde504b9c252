package dev.reqctx.http;

import java.net.URI;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Tests for {@link InternalHosts}: which call URIs a list of patterns declares internal, and
 * what a bad pattern is told.
 */
class InternalHostsTests {

	@Test
	void noPatternDeclaresNoHost() {
		InternalHosts hosts = InternalHosts.of(List.of());
		assertThat(hosts).isSameAs(InternalHosts.NONE);
		assertThat(hosts.isEmpty()).isTrue();
		assertThat(includes(hosts, "http://127.0.0.1:8080/")).isFalse();
		assertThat(includes(hosts, "http://localhost/")).isFalse();
	}

	@Test
	void anExactHostMatchesThatHostOnly() {
		InternalHosts hosts = hosts("orders.example.internal");
		assertThat(includes(hosts, "http://orders.example.internal/orders")).isTrue();
		assertThat(includes(hosts, "https://orders.example.internal:9443/orders")).isTrue();
		assertThat(includes(hosts, "http://billing.example.internal/")).isFalse();
		assertThat(includes(hosts, "http://a.orders.example.internal/")).isFalse();
		assertThat(includes(hosts, "http://orders.example.internal.evil.example/")).isFalse();
		assertThat(includes(hosts, "http://xorders.example.internal/")).isFalse();
	}

	@Test
	void hostsMatchWhateverTheirCase() {
		assertThat(includes(hosts("Orders.Example.Internal"), "http://orders.example.internal/")).isTrue();
		assertThat(includes(hosts("orders.example.internal"), "http://ORDERS.Example.INTERNAL/")).isTrue();
		assertThat(includes(hosts("*.Example.Internal"), "http://api.EXAMPLE.internal/")).isTrue();
	}

	@Test
	void localhostAndItsAddressAreDifferentHosts() {
		assertThat(includes(hosts("127.0.0.1"), "http://127.0.0.1:8080/")).isTrue();
		assertThat(includes(hosts("127.0.0.1"), "http://localhost:8080/")).isFalse();
		assertThat(includes(hosts("localhost"), "http://127.0.0.1:8080/")).isFalse();
		assertThat(includes(hosts("localhost"), "http://localhost:8080/")).isTrue();
	}

	@Test
	void aWildcardMatchesSubdomainsAtAnyDepthButNotTheBareDomain() {
		InternalHosts hosts = hosts("*.example.internal");
		assertThat(includes(hosts, "http://api.example.internal/")).isTrue();
		assertThat(includes(hosts, "http://a.b.example.internal/")).isTrue();
		assertThat(includes(hosts, "http://example.internal/")).isFalse();
		assertThat(includes(hosts, "http://badexample.internal/")).isFalse();
		assertThat(includes(hosts, "http://api.example.internal.evil.example/")).isFalse();
	}

	@Test
	void aPortRestrictsThePatternToThatPort() {
		InternalHosts hosts = hosts("api.example.internal:8443", "*.svc.internal:8080");
		assertThat(includes(hosts, "https://api.example.internal:8443/")).isTrue();
		assertThat(includes(hosts, "https://api.example.internal:9443/")).isFalse();
		assertThat(includes(hosts, "https://api.example.internal/")).isFalse();
		assertThat(includes(hosts, "http://orders.svc.internal:8080/")).isTrue();
		assertThat(includes(hosts, "http://orders.svc.internal:8081/")).isFalse();
	}

	@Test
	void aUriWithoutAPortHasItsSchemesDefaultPort() {
		assertThat(includes(hosts("api.example.internal:443"), "https://api.example.internal/")).isTrue();
		assertThat(includes(hosts("api.example.internal:443"), "http://api.example.internal/")).isFalse();
		assertThat(includes(hosts("api.example.internal:80"), "http://api.example.internal/")).isTrue();
		assertThat(includes(hosts("api.example.internal:80"), "HTTP://api.example.internal/")).isTrue();
		assertThat(includes(hosts("api.example.internal:80"), "https://api.example.internal/")).isFalse();
		assertThat(hosts("api.example.internal:80").includes("api.example.internal", -1))
			.as("an unknown scheme without a port has no port to match")
			.isFalse();
	}

	@Test
	void aStarAloneDeclaresEveryHost() {
		InternalHosts hosts = hosts("*");
		assertThat(includes(hosts, "https://api.partner.example/")).isTrue();
		assertThat(includes(hosts, "http://localhost:8080/")).isTrue();
		assertThat(includes(hosts, "http://[::1]:8080/")).isTrue();
		assertThat(includes(hosts("orders.example.internal", "*"), "http://anything.example/")).isTrue();
	}

	@Test
	void ipv6LiteralsAreWrittenInBrackets() {
		assertThat(includes(hosts("[::1]"), "http://[::1]:8080/")).isTrue();
		assertThat(includes(hosts("[::1]:8080"), "http://[::1]:8080/")).isTrue();
		assertThat(includes(hosts("[::1]:8080"), "http://[::1]:8081/")).isFalse();
		assertThat(includes(hosts("[FE80::1]"), "http://[fe80::1]/")).isTrue();
		assertThat(includes(hosts("[::1]"), "http://127.0.0.1/")).isFalse();
	}

	@Test
	void aHostJavaNetUriDoesNotParseIsTakenFromTheAuthority() {
		URI uri = URI.create("http://user@order_service:8080/orders");
		assertThat(uri.getHost()).as("java.net.URI leaves it undefined").isNull();
		assertThat(hosts("order_service").includes(uri)).isTrue();
		assertThat(hosts("order_service:8080").includes(uri)).isTrue();
		assertThat(hosts("order_service:9090").includes(uri)).isFalse();
		assertThat(hosts("user").includes(uri)).isFalse();
		assertThat(hosts("order_service:80").includes(URI.create("http://order_service/"))).isTrue();
	}

	@Test
	void surroundingWhitespaceIsIgnored() {
		assertThat(includes(hosts(" api.example.internal "), "http://api.example.internal/")).isTrue();
	}

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|', quoteCharacter = '"', value = {
			"\"\" | is empty",
			"\"  \" | is empty",
			"http://api.example.internal | has a scheme: write the host alone",
			"api.example.internal/v1 | has a path: write the host alone",
			"api.example.internal?x=1 | has a path: write the host alone",
			"user@api.example.internal | has user info",
			"api example.internal | contains whitespace",
			"api.example.internal:0 | has an invalid port '0': the port must be a number from 1 to 65535",
			"api.example.internal:65536 | has an invalid port '65536'",
			"api.example.internal:http | has an invalid port 'http'",
			"api.example.internal: | has an invalid port ''",
			":8080 | has no host",
			"*:8080 | '*' stands alone for every host on every port",
			"api.*.internal | has a '*' that is not its whole first label",
			"*example.internal | has a '*' that is not its whole first label",
			"*.*.example.internal | has a '*' that is not its whole first label",
			"*. | has no host",
			".example.internal | has an empty label",
			"api..example.internal | has an empty label",
			"api.example.internal. | has an empty label",
			"api!.example.internal | has '!', which is not allowed in a host name",
			"::1 | looks like an IPv6 address: write it in brackets, such as [::1]",
			"[::1 | opens an IPv6 literal with '[' and does not close it",
			"[::1]8080 | has '8080' after its IPv6 literal",
			"[] | has no IPv6 address between its brackets",
			"[::g] | has 'g' in its IPv6 literal" })
	void aBadPatternIsRejectedWithWhatIsWrongAndExamples(String pattern, String problem) {
		assertThatIllegalArgumentException().isThrownBy(() -> InternalHosts.of(List.of(pattern)))
			.withMessageStartingWith("Internal host pattern '" + pattern + "' ")
			.withMessageContaining(problem)
			.withMessageContaining("such as api.example.internal, 10.0.0.7, [::1], *.example.internal, "
					+ "api.example.internal:8443 or *");
	}

	@Test
	void aNullPatternIsRejected() {
		assertThatIllegalArgumentException().isThrownBy(() -> InternalHosts.of(Arrays.asList("a.example", null)))
			.withMessageStartingWith("Internal host pattern null is empty");
	}

	@Test
	void listsTheDeclaredPatterns() {
		assertThat(hosts("*.example.internal", " localhost:8080")).hasToString("[*.example.internal, localhost:8080]");
	}

	private static InternalHosts hosts(String... patterns) {
		return InternalHosts.of(List.of(patterns));
	}

	private static boolean includes(InternalHosts hosts, String uri) {
		return hosts.includes(URI.create(uri));
	}

}
