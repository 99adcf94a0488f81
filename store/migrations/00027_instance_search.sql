-- The list's search (a name containing what is searched, ASCII letters in
-- any case: LIKE's match) reads a text index instead of every live
-- instance's name: an FTS5 table with the trigram tokenizer, kept by
-- triggers. It holds exactly the live instances (a deleted one leaves it),
-- each by its name in lower case as SQLite's lower() makes it (ASCII letters
-- only, as LIKE folds them), and compares case-sensitively: a phrase of a
-- search's trigrams, lowered the same way, finds exactly the names LIKE
-- finds, so the index also counts a search's matches without reading the
-- instances (store.findInstances). The tokenizer's own case folding would
-- fold non-ASCII letters too, which LIKE does not. Searches under three
-- characters, which no trigram serves, scan as before.
--
-- The table is contentless (it keeps no copy of the names) with
-- contentless_delete, so that a trigger removes a row by its ID alone.

-- +goose Up
CREATE VIRTUAL TABLE instances_search USING fts5 (
    name, content = '', contentless_delete = 1, tokenize = 'trigram case_sensitive 1'
);
-- +goose StatementBegin
CREATE TRIGGER instances_search_insert AFTER INSERT ON instances
WHEN NEW.state <> 'Deleted'
BEGIN
    INSERT INTO instances_search (rowid, name) VALUES (NEW.id, lower(NEW.name));
END;
-- +goose StatementEnd
-- Only a new name, or a deletion (or an undeletion), changes the index: the
-- sync's changes of state leave it alone.
-- +goose StatementBegin
CREATE TRIGGER instances_search_update AFTER UPDATE OF name, state ON instances
WHEN OLD.name <> NEW.name COLLATE BINARY OR (OLD.state = 'Deleted') <> (NEW.state = 'Deleted')
BEGIN
    DELETE FROM instances_search WHERE rowid = OLD.id;
    INSERT INTO instances_search (rowid, name) SELECT NEW.id, lower(NEW.name) WHERE NEW.state <> 'Deleted';
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER instances_search_delete AFTER DELETE ON instances
BEGIN
    DELETE FROM instances_search WHERE rowid = OLD.id;
END;
-- +goose StatementEnd
INSERT INTO instances_search (rowid, name) SELECT id, lower(name) FROM instances WHERE state <> 'Deleted';

-- +goose Down
DROP TRIGGER instances_search_delete;
DROP TRIGGER instances_search_update;
DROP TRIGGER instances_search_insert;
DROP TABLE instances_search;
