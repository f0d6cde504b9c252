package dev.reqctx.test;

import org.springframework.boot.restclient.RestClientCustomizer;
import org.springframework.stereotype.Component;
import org.springframework.web.client.RestClient;

/**
 * A client of a remote price service, built from Boot's {@code RestClient.Builder} (so reqctx's
 * {@link RestClientCustomizer} applies to it).
 */
@Component
public class PriceClient {

	private final RestClient client;

	PriceClient(RestClient.Builder builder) {
		this.client = builder.baseUrl("http://prices.example").build();
	}

	String price() {
		return this.client.get().uri("/price").retrieve().body(String.class);
	}

}
