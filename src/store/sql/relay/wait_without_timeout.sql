-- The lock's connection waits as long as the relay before it lives: no
-- statement timeout on this session.
SET statement_timeout = 0
