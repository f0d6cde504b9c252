package dev.reqctx.examples.jpa;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.ResponseStatus;

/**
 * Thrown when a reservation asks for more items than are in stock, or for an unknown article.
 */
@ResponseStatus(HttpStatus.CONFLICT)
public class OutOfStockException extends RuntimeException {

	OutOfStockException(String sku, int wanted, int left) {
		super("Cannot reserve " + wanted + " of '" + sku + "': " + left + " left");
	}

}
