-- The details page keeps an instance's last setup run while nothing was
-- committed (store.SetupRun): setup_runs is watched by data_version, as
-- every table a page reads.

-- +goose Up
CREATE TRIGGER setup_runs_data_version_insert AFTER INSERT ON setup_runs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump();
CREATE TRIGGER setup_runs_data_version_update AFTER UPDATE ON setup_runs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump();
CREATE TRIGGER setup_runs_data_version_delete AFTER DELETE ON setup_runs REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump();
CREATE TRIGGER setup_runs_data_version_truncate AFTER TRUNCATE ON setup_runs
    FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump();

-- +goose Down
DROP TRIGGER setup_runs_data_version_insert ON setup_runs;
DROP TRIGGER setup_runs_data_version_update ON setup_runs;
DROP TRIGGER setup_runs_data_version_delete ON setup_runs;
DROP TRIGGER setup_runs_data_version_truncate ON setup_runs;
