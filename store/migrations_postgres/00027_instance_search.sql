-- The list's search (a name containing the words searched, any case) reads
-- a trigram index instead of every live instance's name, as SQLite's 00027
-- does with FTS5: pg_trgm's GIN index serves ILIKE '%...%' for a search of
-- at least three characters; shorter ones scan as before. The index is of
-- the name as text (citext has no trigram operator class), and the search
-- compares name::text ILIKE the pattern, the same match as citext's.
--
-- pg_trgm is a contrib extension (Debian's postgresql package holds it) and
-- a trusted one since PostgreSQL 13: the owner of the database, or a role
-- with CREATE on it, may create it without being a superuser. A managed
-- server may need it allowed first (on Azure Database for PostgreSQL, add
-- PG_TRGM to the server parameter azure.extensions), as citext of 00016 does.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX instances_live_name_trgm ON instances USING gin ((name::text) gin_trgm_ops) WHERE state <> 'Deleted';

-- +goose Down
DROP INDEX instances_live_name_trgm;
