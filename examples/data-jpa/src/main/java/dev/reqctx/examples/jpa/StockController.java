package dev.reqctx.examples.jpa;

import java.util.Map;

import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /stock/{id}/reservations?count=N} reserves items of an article.
 */
@RestController
class StockController {

	private final StockService service;

	StockController(StockService service) {
		this.service = service;
	}

	@PostMapping("/stock/{id}/reservations")
	Map<String, Object> reserve(@PathVariable long id, @RequestParam(defaultValue = "1") int count) {
		int left = this.service.reserve(id, count);
		return Map.of("id", id, "reserved", count, "left", left);
	}

}
