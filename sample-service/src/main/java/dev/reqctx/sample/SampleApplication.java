package dev.reqctx.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The reqctx demo service: slow SQL that is cancelled at the request's deadline, and the live
 * context tree in {@code /actuator/requestcontexts}.
 */
@SpringBootApplication
public class SampleApplication {

	public static void main(String[] args) {
		SpringApplication.run(SampleApplication.class, args);
	}

}
