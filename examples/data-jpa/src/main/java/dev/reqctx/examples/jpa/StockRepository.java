package dev.reqctx.examples.jpa;

import java.util.Optional;

import jakarta.persistence.LockModeType;

import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Lock;

/**
 * The stock of every article.
 */
public interface StockRepository extends JpaRepository<Stock, Long> {

	/**
	 * Reads an article's stock and locks its row until the transaction ends
	 * ({@code SELECT … FOR NO KEY UPDATE} on PostgreSQL), waiting while another transaction
	 * holds it. The CRUD method redeclared with a lock mode, as Spring Data JPA's reference
	 * shows.
	 * @param id the article's id
	 * @return its stock, if the article is known
	 */
	@Override
	@Lock(LockModeType.PESSIMISTIC_WRITE)
	Optional<Stock> findById(Long id);

}
