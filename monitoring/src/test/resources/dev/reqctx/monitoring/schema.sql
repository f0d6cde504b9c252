-- SLEEP_MS(ms): sleeps on the database and stops when its statement is cancelled (dev.reqctx.testsupport.H2Sleep).
CREATE ALIAS IF NOT EXISTS SLEEP_MS FOR 'dev.reqctx.testsupport.H2Sleep.sleepMs';
