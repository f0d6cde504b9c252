package dev.reqctx.work;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link WorkTimeouts}: exact names before patterns, longer patterns first, then the
 * default.
 */
class WorkTimeoutsTests {

	@Test
	void exactNamesWinOverPatternsAndLongerPatternsOverShorterOnes() {
		Map<String, Duration> timeouts = new LinkedHashMap<>();
		timeouts.put("*", Duration.ofMinutes(30));
		timeouts.put("ReportJobs.*", Duration.ofMinutes(10));
		timeouts.put("ReportJobs.nightly", Duration.ofHours(2));
		timeouts.put("*.purge", Duration.ofSeconds(30));
		WorkTimeouts jobs = new WorkTimeouts(Duration.ofMinutes(1), timeouts);
		assertThat(jobs.timeoutOf("ReportJobs.nightly")).isEqualTo(Duration.ofHours(2));
		assertThat(jobs.timeoutOf("ReportJobs.weekly")).isEqualTo(Duration.ofMinutes(10));
		assertThat(jobs.timeoutOf("OrderJobs.purge")).isEqualTo(Duration.ofSeconds(30));
		assertThat(jobs.timeoutOf("OrderJobs.sync")).isEqualTo(Duration.ofMinutes(30));
	}

	@Test
	void theDefaultAppliesToUnnamedJobsAndMayBeNone() {
		assertThat(new WorkTimeouts(Duration.ofMinutes(1), Map.of("A.b", Duration.ofSeconds(5))).timeoutOf("C.d"))
			.isEqualTo(Duration.ofMinutes(1));
		assertThat(new WorkTimeouts(null, Map.of()).timeoutOf("C.d")).isNull();
	}

	@Test
	void patternsMatchWholeNamesLiterallyButForTheStar() {
		WorkTimeouts jobs = new WorkTimeouts(null, Map.of("Report.Jobs*", Duration.ofSeconds(1)));
		assertThat(jobs.timeoutOf("Report.JobsNightly.run")).isEqualTo(Duration.ofSeconds(1));
		assertThat(jobs.timeoutOf("ReportXJobs.run")).as("the dot is not a regex wildcard").isNull();
		assertThat(jobs.timeoutOf("MyReport.Jobs.run")).as("anchored at the start").isNull();
	}

}
