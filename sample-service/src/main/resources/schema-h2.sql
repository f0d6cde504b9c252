CREATE ALIAS IF NOT EXISTS SLEEP FOR 'dev.reqctx.sample.H2Functions.sleep';
CREATE TABLE IF NOT EXISTS orders (id INT PRIMARY KEY, customer VARCHAR(100) NOT NULL, total DECIMAL(10, 2) NOT NULL);
MERGE INTO orders KEY (id) VALUES (1, 'acme', 120.50), (2, 'globex', 80.00), (3, 'initech', 42.00);
