package dev.reqctx.autoconfigure;

import java.lang.annotation.Annotation;
import java.util.ArrayList;
import java.util.List;

import dev.reqctx.ContextRuntime;
import dev.reqctx.work.RootMethodInterceptor;
import dev.reqctx.work.WorkTimeouts;

import org.springframework.aop.Advisor;
import org.springframework.aop.Pointcut;
import org.springframework.aop.support.ComposablePointcut;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Role;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.util.ClassUtils;

/**
 * {@link AutoConfiguration Auto-configuration} for message listeners: an advisor on every
 * listener method ({@code @KafkaListener}, {@code @KafkaHandler}, {@code @JmsListener},
 * {@code @RabbitListener}, {@code @RabbitHandler}, {@code @SqsListener},
 * {@code @PulsarListener}, whichever are on the classpath) runs each message in a root context
 * of kind MESSAGE with the timeout of {@code reqctx.messaging.*}.
 */
@AutoConfiguration(after = ReqctxAutoConfiguration.class,
		afterName = "org.springframework.boot.autoconfigure.aop.AopAutoConfiguration")
@ConditionalOnClass(Advisor.class)
@Conditional(ReqctxMessagingAutoConfiguration.ListenerAnnotationCondition.class)
@ConditionalOnBooleanProperty(name = "reqctx.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "reqctx.messaging.enabled", matchIfMissing = true)
public final class ReqctxMessagingAutoConfiguration {

	/** The listener annotations reqctx knows, on methods. */
	static final List<String> LISTENER_ANNOTATIONS = List.of("org.springframework.kafka.annotation.KafkaListener",
			"org.springframework.kafka.annotation.KafkaHandler", "org.springframework.jms.annotation.JmsListener",
			"org.springframework.amqp.rabbit.annotation.RabbitListener",
			"org.springframework.amqp.rabbit.annotation.RabbitHandler", "io.awspring.cloud.sqs.annotation.SqsListener",
			"org.springframework.pulsar.annotation.PulsarListener");

	/**
	 * The advisor is created early, with the auto-proxy creator: what it needs is looked up at
	 * the first message.
	 */
	@Bean
	@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
	@ConditionalOnMissingBean(name = "reqctxListenerAdvisor")
	static Advisor reqctxListenerAdvisor(ObjectProvider<ContextRuntime> runtime,
			ObjectProvider<ReqctxProperties> properties) {
		RootMethodInterceptor interceptor = RootMethodInterceptor.forMessages(runtime::getObject, () -> {
			ReqctxProperties.Messaging messaging = properties.getObject().getMessaging();
			return new WorkTimeouts(messaging.getDefaultTimeout(), messaging.getTimeouts());
		});
		DefaultPointcutAdvisor advisor = new DefaultPointcutAdvisor(listenerMethods(), interceptor);
		advisor.setOrder(0);
		return advisor;
	}

	private static Pointcut listenerMethods() {
		ComposablePointcut pointcut = null;
		for (Class<? extends Annotation> annotation : presentAnnotations(ReqctxMessagingAutoConfiguration.class.getClassLoader())) {
			AnnotationMatchingPointcut methods = new AnnotationMatchingPointcut(null, annotation, true);
			pointcut = (pointcut != null) ? pointcut.union((Pointcut) methods) : new ComposablePointcut(methods);
		}
		return pointcut;
	}

	@SuppressWarnings("unchecked")
	static List<Class<? extends Annotation>> presentAnnotations(ClassLoader classLoader) {
		List<Class<? extends Annotation>> present = new ArrayList<>();
		for (String name : LISTENER_ANNOTATIONS) {
			if (ClassUtils.isPresent(name, classLoader)) {
				present.add((Class<? extends Annotation>) ClassUtils.resolveClassName(name, classLoader));
			}
		}
		return present;
	}

	/** Matches when at least one listener annotation is on the classpath. */
	static final class ListenerAnnotationCondition extends SpringBootCondition {

		@Override
		public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
			for (String name : LISTENER_ANNOTATIONS) {
				if (ClassUtils.isPresent(name, context.getClassLoader())) {
					return ConditionOutcome.match("found listener annotation " + name);
				}
			}
			return ConditionOutcome.noMatch("no listener annotation on the classpath");
		}

	}

}
