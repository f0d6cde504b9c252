package dev.reqctx.autoconfigure;

import dev.reqctx.grpc.ContextClientInterceptor;
import dev.reqctx.grpc.ContextServerInterceptor;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.grpc.client.GlobalClientInterceptor;
import org.springframework.grpc.server.GlobalServerInterceptor;

import static org.assertj.core.api.Assertions.assertThat;

class ReqctxGrpcAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ReqctxAutoConfiguration.class, ReqctxGrpcAutoConfiguration.class));

	@Test
	void interceptorsAreSpringGrpcGlobalInterceptors() {
		this.runner.run((context) -> {
			assertThat(context).hasSingleBean(ContextServerInterceptor.class).hasSingleBean(ContextClientInterceptor.class);
			assertThat(context.findAnnotationOnBean("reqctxGrpcServerInterceptor", GlobalServerInterceptor.class))
				.isNotNull();
			assertThat(context.findAnnotationOnBean("reqctxGrpcClientInterceptor", GlobalClientInterceptor.class))
				.isNotNull();
		});
	}

	@Test
	void withoutSpringGrpcTheInterceptorsAreStillBeans() {
		this.runner.withClassLoader(new FilteredClassLoader("org.springframework.grpc"))
			.run((context) -> assertThat(context).hasSingleBean(ContextServerInterceptor.class)
				.hasSingleBean(ContextClientInterceptor.class));
	}

	@Test
	void defaultTimeoutIsApplied() {
		this.runner.withPropertyValues("reqctx.grpc.server.default-timeout=5s")
			.run((context) -> assertThat(context.getBean(ContextServerInterceptor.class))
				.hasToString("ContextServerInterceptor[runtime=application, defaultTimeout=PT5S]"));
	}

	@Test
	void grpcDisabledRegistersNoInterceptor() {
		this.runner.withPropertyValues("reqctx.grpc.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(ContextServerInterceptor.class)
				.doesNotHaveBean(ContextClientInterceptor.class));
	}

	@Test
	void withoutGrpcNothingIsRegistered() {
		this.runner.withClassLoader(new FilteredClassLoader("io.grpc"))
			.run((context) -> assertThat(context).doesNotHaveBean(ContextServerInterceptor.class));
	}

	@Test
	void anInvalidDefaultTimeoutFailsStartUp() {
		this.runner.withPropertyValues("reqctx.grpc.server.default-timeout=0s")
			.run((context) -> assertThat(context).hasFailed());
	}

}
