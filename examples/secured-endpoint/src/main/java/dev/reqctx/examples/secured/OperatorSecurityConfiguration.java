package dev.reqctx.examples.secured;

import org.springframework.boot.security.autoconfigure.actuate.web.servlet.EndpointRequest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;

/**
 * The actuator endpoints for operators: anyone with {@code VIEWER} may read the live tree, only
 * {@code OPERATOR} may cancel. Actuator clients (curl, scripts) authenticate on every call with
 * HTTP Basic and hold no session, so CSRF protection, which guards cookie sessions, is off for
 * the actuator paths only; without that, Spring Security answers an operator's POST with 401
 * (no CSRF token) and nothing says why.
 */
@Configuration(proxyBeanMethods = false)
class OperatorSecurityConfiguration {

	@Bean
	@Order(1)
	SecurityFilterChain actuatorSecurity(HttpSecurity http) throws Exception {
		http.securityMatcher(EndpointRequest.toAnyEndpoint())
			.authorizeHttpRequests((requests) -> requests
				.requestMatchers(HttpMethod.POST, "/actuator/requestcontexts/**").hasRole("OPERATOR")
				.requestMatchers(EndpointRequest.to("health")).permitAll()
				.anyRequest().hasAnyRole("VIEWER", "OPERATOR"))
			.httpBasic(Customizer.withDefaults())
			.csrf((csrf) -> csrf.ignoringRequestMatchers(EndpointRequest.toAnyEndpoint()));
		return http.build();
	}

	@Bean
	@Order(2)
	SecurityFilterChain applicationSecurity(HttpSecurity http) throws Exception {
		http.authorizeHttpRequests((requests) -> requests.anyRequest().authenticated())
			.httpBasic(Customizer.withDefaults());
		return http.build();
	}

	/** Demo users; a real application has its own user store. */
	@Bean
	UserDetailsService users() {
		return new InMemoryUserDetailsManager(
				User.withUsername("operator").password("{noop}operator-secret").roles("OPERATOR").build(),
				User.withUsername("viewer").password("{noop}viewer-secret").roles("VIEWER").build(),
				User.withUsername("user").password("{noop}user-secret").roles("USER").build());
	}

}
