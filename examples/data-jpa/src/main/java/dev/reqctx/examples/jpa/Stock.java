package dev.reqctx.examples.jpa;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.Id;

/**
 * How many items of one article are in stock.
 */
@Entity
public class Stock {

	@Id
	@GeneratedValue
	private Long id;

	@Column(nullable = false, unique = true)
	private String sku;

	private int quantity;

	protected Stock() {
	}

	/**
	 * Creates stock of an article.
	 * @param sku the article's stock-keeping unit
	 * @param quantity how many are in stock
	 */
	public Stock(String sku, int quantity) {
		this.sku = sku;
		this.quantity = quantity;
	}

	public Long getId() {
		return this.id;
	}

	public String getSku() {
		return this.sku;
	}

	public int getQuantity() {
		return this.quantity;
	}

	/**
	 * Takes items out of stock.
	 * @param count how many
	 * @throws OutOfStockException if fewer are left
	 */
	void take(int count) {
		if (count > this.quantity) {
			throw new OutOfStockException(this.sku, count, this.quantity);
		}
		this.quantity -= count;
	}

}
