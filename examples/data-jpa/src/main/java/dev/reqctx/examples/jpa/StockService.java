package dev.reqctx.examples.jpa;

import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Reserves stock: one transaction that locks the article's row, so that concurrent
 * reservations of one article take turns.
 */
@Service
public class StockService {

	private final StockRepository stock;

	StockService(StockRepository stock) {
		this.stock = stock;
	}

	/**
	 * Takes items of an article out of stock.
	 * @param id the article's id
	 * @param count how many
	 * @return how many are left
	 * @throws OutOfStockException if the article is unknown or fewer are left
	 */
	@Transactional
	public int reserve(long id, int count) {
		Stock item = this.stock.findById(id).orElseThrow(() -> new OutOfStockException("#" + id, count, 0));
		item.take(count);
		return item.getQuantity();
	}

}
