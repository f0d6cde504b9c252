package dev.reqctx.autoconfigure;

import dev.reqctx.ContextRuntime;
import dev.reqctx.work.WorkTimeouts;
import dev.reqctx.work.RootMethodInterceptor;

import org.springframework.aop.Advisor;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Role;
import org.springframework.scheduling.annotation.Scheduled;

/**
 * {@link AutoConfiguration Auto-configuration} for scheduled jobs: an advisor on every
 * {@code @Scheduled} method runs each run in a root context of kind JOB with the timeout of
 * {@code reqctx.scheduling.*}.
 */
@AutoConfiguration(after = ReqctxAutoConfiguration.class,
		afterName = "org.springframework.boot.autoconfigure.aop.AopAutoConfiguration")
@ConditionalOnClass({ Scheduled.class, Advisor.class })
@ConditionalOnBooleanProperty(name = "reqctx.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "reqctx.scheduling.enabled", matchIfMissing = true)
public final class ReqctxSchedulingAutoConfiguration {

	/**
	 * The advisor is created early, with the auto-proxy creator: what it needs is looked up at
	 * the first job's run.
	 */
	@Bean
	@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
	@ConditionalOnMissingBean(name = "reqctxScheduledJobAdvisor")
	static Advisor reqctxScheduledJobAdvisor(ObjectProvider<ContextRuntime> runtime,
			ObjectProvider<ReqctxProperties> properties) {
		RootMethodInterceptor interceptor = RootMethodInterceptor.forJobs(runtime::getObject, () -> {
			ReqctxProperties.Scheduling scheduling = properties.getObject().getScheduling();
			return new WorkTimeouts(scheduling.getDefaultTimeout(), scheduling.getTimeouts());
		});
		DefaultPointcutAdvisor advisor = new DefaultPointcutAdvisor(
				new AnnotationMatchingPointcut(null, Scheduled.class, true), interceptor);
		advisor.setOrder(0);
		return advisor;
	}

}
