package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/instancehub/instancehub"
)

// live is the condition of instances that are not Deleted. It is spelled
// exactly as in the partial indexes of the schema, which SQLite uses only
// for queries that repeat their condition.
const live = `i.state <> 'Deleted'`

// instanceSelect reads instances with the names of their owner and creator
// and their last operation. The last operation is looked up through the
// operations_instance index for each row the query returns, so a page of
// 50 costs 50 index lookups, not 50 queries.
const instanceSelect = `
SELECT ` + instanceBriefColumns + `,
       ` + instanceExtraColumns + `,
       ` + operationColumns + instanceFrom

// instanceBriefColumns are the columns InstanceFilter.Brief reads (37 with
// the operation's, of 52): each column is two or three calls into SQLite,
// each taking and leaving the connection's mutex. instanceExtraColumns are
// the rest, which instanceSelect reads too.
const (
	instanceBriefColumns = `i.id, i.name, i.region, i.vm_size, i.family, i.vcpus, i.memory_gib, i.gpus,
       i.ssh_enabled, i.state, i.image,
       i.owner_id, owner.name, i.created_by_id, creator.name,
       i.created_at, i.version, i.last_activity_at,
       i.idle_shutdown_minutes, i.idle_changed_at, i.keep_running_until`
	instanceExtraColumns = `i.ssh_public_key, i.ssh_port, i.virtual_network, i.subnet,
       i.private_ip, i.public_ip, i.app_secret, owner.email, i.updated_at,
       i.description, i.tags, i.identity_system, i.identity_user, i.idempotency_key, i.setup_scripts`
)

// instanceFrom is where instanceSelect and instanceBriefSelect read.
const instanceFrom = `
FROM instances i
JOIN users owner ON owner.id = i.owner_id
JOIN users creator ON creator.id = i.created_by_id
` + lastOperationJoin + `
LEFT JOIN users ou ON ou.id = o.user_id`

// instanceBriefSelect is instanceSelect without its extra columns.
const instanceBriefSelect = `
SELECT ` + instanceBriefColumns + `,
       ` + operationColumns + instanceFrom

// instanceSelectFor is the select of filter's instances: the brief one or
// the full one, which scanInstanceRows reads with full = !filter.Brief.
func instanceSelectFor(filter instancehub.InstanceFilter) string {
	if filter.Brief {
		return instanceBriefSelect
	}
	return instanceSelect
}

// lastOperationJoin joins each instance i to its last operation o, if any.
const lastOperationJoin = `LEFT JOIN operations o ON o.id = (
    SELECT last.id FROM operations last WHERE last.instance_id = i.id ORDER BY last.id DESC LIMIT 1)`

// instanceOrders maps each sort to its ORDER BY clause. The id breaks ties
// so that pages never overlap; names sort case-insensitively through the
// column's NOCASE collation.
var instanceOrders = map[instancehub.InstanceSort]string{
	instancehub.SortNameAsc:     `i.name ASC, i.id ASC`,
	instancehub.SortNameDesc:    `i.name DESC, i.id DESC`,
	instancehub.SortCreatedAsc:  `i.created_at ASC, i.id ASC`,
	instancehub.SortCreatedDesc: `i.created_at DESC, i.id DESC`,
}

// CreateInstance inserts inst, in state Creating, with its Create operation
// op, in one transaction, and sets their IDs. ECONFLICT when a live instance
// has the same name, compared case-insensitively; EQUOTA when it would
// exceed a workspace limit.
func (db *DB) CreateInstance(ctx context.Context, inst *instancehub.Instance, op *instancehub.Operation) error {
	inst.State = instancehub.StateCreating
	inst.CreatedAt = db.orNow(inst.CreatedAt)
	inst.UpdatedAt = db.now()
	op.Kind, op.Status = instancehub.OpCreate, instancehub.StatusInProgress
	op.StartedAt = db.orNow(op.StartedAt)
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := insertInstance(ctx, tx, inst); err != nil {
			return err
		}
		if err := checkWorkspaceQuota(ctx, tx, inst.ID); err != nil {
			return err
		}
		op.InstanceID, op.InstanceName = inst.ID, inst.Name
		return db.insertOperation(ctx, tx, op)
	})
	return wrap(err, "create instance %s", inst.Name)
}

func insertInstance(ctx context.Context, tx *Tx, inst *instancehub.Instance) error {
	err := tx.QueryRowContext(ctx, `
		INSERT INTO instances (name, region, vm_size, family, vcpus, memory_gib, gpus,
			ssh_enabled, ssh_public_key, ssh_port, virtual_network, subnet,
			state, private_ip, public_ip, app_secret, owner_id, created_by_id, created_at, updated_at,
			idle_shutdown_minutes, description, tags, identity_system, identity_user, idempotency_key, setup_scripts)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		inst.Name, inst.Region, inst.VMSize, inst.Family, inst.VCPUs, inst.MemoryGiB, inst.GPUs,
		inst.SSHEnabled, inst.SSHPublicKey, inst.SSHPort, inst.VirtualNetwork, inst.Subnet,
		inst.State, inst.PrivateIP, inst.PublicIP, inst.AppSecret, inst.OwnerID, inst.CreatedByID,
		millis(inst.CreatedAt), millis(inst.UpdatedAt),
		int64(inst.IdleShutdown/time.Minute), inst.Description, jsonText(inst.Tags),
		inst.Identity.SystemAssigned, jsonText(inst.Identity.UserAssigned), inst.IdempotencyKey, setupText(inst.Setup)).Scan(&inst.ID)
	if isUnique(err) && strings.Contains(err.Error(), "idempotency_key") {
		return instancehub.Errorf(instancehub.ECONFLICT, "An instance was created with this Idempotency-Key already.")
	} else if isUnique(err) {
		return instancehub.Errorf(instancehub.ECONFLICT, "An instance named %s already exists.", inst.Name)
	}
	return err
}

// FindInstanceByName returns the live instance with that name, compared
// case-insensitively, with its last operation. ENOTFOUND if there is none.
//
// It is served from memory while nothing was committed since it was read:
// the details page, its fragments and every action ask it.
func (db *DB) FindInstanceByName(ctx context.Context, name string) (*instancehub.Instance, error) {
	return db.byName.read(ctx, db, name, copyInstance, func() (*instancehub.Instance, error) {
		return db.findInstanceByName(ctx, name)
	})
}

// copyInstance returns a copy a caller may change.
func copyInstance(inst *instancehub.Instance) *instancehub.Instance {
	return copies([]*instancehub.Instance{inst})[0]
}

func (db *DB) findInstanceByName(ctx context.Context, name string) (*instancehub.Instance, error) {
	inst, err := db.findInstance(ctx, `i.name = ? AND `+live, name)
	return inst, wrap(err, "find instance %q", name)
}

// FindDeletedInstanceByName returns the instance with that name, compared
// case-insensitively, deleted last, with its last operation. ENOTFOUND if
// none of that name was deleted. Deleted rows have no index by name: this
// reads the instances', for a name no live instance has.
func (db *DB) FindDeletedInstanceByName(ctx context.Context, name string) (*instancehub.Instance, error) {
	inst, err := db.findInstance(ctx, `i.name = ? AND i.state = 'Deleted' ORDER BY i.id DESC LIMIT 1`, name)
	return inst, wrap(err, "find deleted instance %q", name)
}

// FindInstanceByIdempotencyKey returns the instance, deleted or not, that
// userID created with the Idempotency-Key key. ENOTFOUND if there is none.
func (db *DB) FindInstanceByIdempotencyKey(ctx context.Context, userID int64, key string) (*instancehub.Instance, error) {
	inst, err := db.findInstance(ctx, `i.created_by_id = ? AND i.idempotency_key = ?`, userID, key)
	return inst, wrap(err, "find instance by idempotency key")
}

// FindInstanceByID returns an instance, deleted ones included, with its last
// operation. ENOTFOUND if there is none.
func (db *DB) FindInstanceByID(ctx context.Context, id int64) (*instancehub.Instance, error) {
	inst, err := db.findInstance(ctx, `i.id = ?`, id)
	return inst, wrap(err, "find instance %d", id)
}

func (db *DB) findInstance(ctx context.Context, where string, args ...any) (*instancehub.Instance, error) {
	inst, err := scanInstance(db.queryRow(ctx, instanceSelect+` WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "Instance not found.")
	}
	return inst, err
}

// FindInstances returns a page of live instances with their last operations,
// and how many match the filter in all.
func (db *DB) FindInstances(ctx context.Context, filter instancehub.InstanceFilter) ([]*instancehub.Instance, int, error) {
	// A page (not a whole listing, as the sync asks) is served from memory
	// while nothing was committed since it was read.
	if filter.Limit <= 0 || filter.Limit > maxCachedLimit {
		return db.findInstances(ctx, filter, -1)
	}
	version, err := db.version(ctx)
	if err != nil {
		return db.findInstances(ctx, filter, -1)
	}
	if page, ok := db.pages.get(version, filter); ok {
		return copies(page.instances), page.total, nil
	}
	// Every page of a filter has the same total: counted once (a scan of
	// the matching instances, 100,000 of them unfiltered) while nothing
	// was committed, not at each page.
	counted := filter
	counted.Sort, counted.Offset, counted.Limit, counted.Brief = "", 0, 0, false
	known, ok := db.totals.get(version, counted)
	if !ok {
		known = -1
	}
	instances, total, ok, err := db.orderedPage(ctx, version, filter)
	if !ok && err == nil {
		instances, total, err = db.findInstances(ctx, filter, known)
	}
	if err == nil {
		db.pages.put(version, filter, cachedPage{instances: copies(instances), total: total})
		db.totals.put(version, counted, total)
	}
	return instances, total, err
}

// maxCachedLimit is the largest page kept in memory.
const maxCachedLimit = 100

// findInstances reads a page of the instances filter selects and how many
// it selects in all: total, when it is known (not negative), else counted.
func (db *DB) findInstances(ctx context.Context, filter instancehub.InstanceFilter, total int) ([]*instancehub.Instance, int, error) {
	// On SQLite a search of three characters or more reads the text index
	// (00027) once: the IDs of its matches, which count them and select
	// the page's rows (reading it for each took a third of a search's CPU
	// at 100,000 instances). Among more than maxIndexedMatches, a page
	// walks the sort's index and stops at its last row, as without the
	// index: reading every match to sort them would cost more.
	matched := ""
	if !db.d.postgres() && trigramSearch(filter.Search) {
		ids, err := db.searchMatches(ctx, filter.Search, maxIndexedMatches+1)
		if err != nil {
			return nil, 0, err
		}
		if len(ids) <= maxIndexedMatches {
			matched = jsonIDs(ids)
			if total < 0 && filter.OwnerID == 0 {
				total = len(ids)
			}
		} else if total < 0 && filter.OwnerID == 0 {
			err := db.queryRow(ctx, `SELECT count(*) FROM instances_search WHERE instances_search MATCH ?`,
				ftsPhrase(filter.Search)).Scan(&total)
			if err != nil {
				return nil, 0, fmt.Errorf("count instances: %w", err)
			}
		}
	}
	indexed := matched != ""
	where, args := db.instanceWhere(filter, matched)
	if total < 0 {
		err := db.queryRow(ctx, `SELECT count(*) FROM instances i WHERE `+where, args...).Scan(&total)
		if err != nil {
			return nil, 0, fmt.Errorf("count instances: %w", err)
		}
	}
	offset := max(filter.Offset, 0)
	if offset >= total {
		return nil, total, nil
	}
	limit := filter.Limit
	if limit <= 0 {
		limit = noLimit
	}
	order := instanceOrders[instancehub.ParseInstanceSort(string(filter.Sort))]
	sel := instanceSelectFor(filter)
	query := sel + ` WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
	if offset > 0 || indexed {
		// A later page picks its rows' IDs first, from the instances alone
		// (an index gives them in order), and joins only those 50: joined
		// while skipped, the rows before it cost their joins too, which
		// at page 1,000 of 100,000 made the query 10 times slower. So does
		// a search read from the text index, whose matches come unsorted.
		query = sel + ` WHERE i.id IN (` + pageIDs(where, order) + `) ORDER BY ` + order
	}
	rows, err := db.query(ctx, query, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("find instances: %w", err)
	}
	instances, err := scanInstanceRows(rows, !filter.Brief)
	if err != nil {
		return nil, 0, fmt.Errorf("find instances: %w", err)
	}
	return instances, total, nil
}

// pageIDs selects the IDs of a later page (LIMIT ? OFFSET ?) of the
// instances where selects, in order: on SQLite from an index alone, by
// creation or by name, for everyone's list (migration 00028).
func pageIDs(where, order string) string {
	return `SELECT i.id FROM instances i WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
}

// maxIndexedMatches is the most matches of a search whose page is read
// from the text index, each match from the instances, and sorted; past it a
// page walks the sort's index, where one row in (live instances / matches)
// or more is a match.
const maxIndexedMatches = 2000

// instanceWhere is the condition and arguments selecting filter's
// instances. matched, when set, is the JSON array of the IDs the text index
// (SQLite's, 00027) holds for the search (searchMatches): those whose
// lowered names hold the search's lowered trigrams in sequence; the names
// are still compared, as without the index.
func (db *DB) instanceWhere(filter instancehub.InstanceFilter, matched string) (string, []any) {
	conds, args := []string{live}, []any{}
	if filter.OwnerID != 0 {
		conds, args = append(conds, `i.owner_id = ?`), append(args, filter.OwnerID)
	}
	if filter.Search != "" {
		if matched != "" {
			conds = append(conds, `i.id IN (SELECT value FROM json_each(?))`)
			args = append(args, matched)
		}
		if db.d.postgres() {
			conds = append(conds, db.d.instanceName+` `+db.d.like+` ? ESCAPE '\'`)
			args = append(args, contains(filter.Search))
		} else {
			// As LIKE '%s%' compares (ASCII letters in either case), but a
			// LIKE of a parameter made SQLite prepare the statement again
			// whenever its value changed, in case its pattern could use an
			// index: a fifth of a search's CPU.
			conds = append(conds, `instr(lower(i.name), ?) > 0`)
			args = append(args, lowerASCII(filter.Search))
		}
	}
	return strings.Join(conds, " AND "), args
}

// searchMatches reads the IDs of at most limit live instances whose names
// the text index says hold s (SQLite's, 00027).
func (db *DB) searchMatches(ctx context.Context, s string, limit int) ([]int64, error) {
	ids, err := db.readIDs(ctx, `SELECT rowid FROM instances_search WHERE instances_search MATCH ? LIMIT ?`, ftsPhrase(s), limit)
	return ids, wrap(err, "search instances")
}

// readIDs reads the IDs query selects, in its order.
func (db *DB) readIDs(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// jsonIDs is ids as a JSON array, which SQLite's json_each reads.
func jsonIDs(ids []int64) string {
	b := make([]byte, 0, 2+8*len(ids))
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// trigramSearch reports whether the text index serves a search for s: one
// of at least three characters (the index holds trigrams), of valid UTF-8
// and without NUL (which FTS5 does not take in a query).
func trigramSearch(s string) bool {
	return utf8.RuneCountInString(s) >= 3 && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// ftsPhrase is the FTS5 query of the indexed names containing s: s with
// its ASCII letters in lower case, as the index holds the names (SQLite's
// lower() folds only those, and LIKE compares only those in any case), as
// one phrase: in double quotes, its own doubled. The trigram tokenizer
// takes every other character as it is.
func ftsPhrase(s string) string {
	return `"` + strings.ReplaceAll(lowerASCII(s), `"`, `""`) + `"`
}

// lowerASCII is s with its ASCII letters in lower case, as SQLite's lower()
// makes it.
func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// escapeLike makes LIKE match s literally, so that a search for "a_b" does
// not also find "axb".
var escapeLike = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace

// contains is the LIKE pattern (with ESCAPE '\') of values containing s.
func contains(s string) string { return "%" + escapeLike(s) + "%" }

// EachSyncState calls fn with what the sync compares of every live
// instance, read in one query without the joins of a page: a few fields
// each. fn must not use the store: the query is open while it runs.
func (db *DB) EachSyncState(ctx context.Context, fn func(instancehub.SyncState)) error {
	// The instances with an operation in progress are read first, from
	// their partial index, rather than looked up for each instance: at
	// 100,000 those lookups were half of this read. One that begins
	// meanwhile has a newer version, which SyncInstance leaves alone.
	inProgress, err := db.readIDs(ctx, `SELECT instance_id FROM operations WHERE status = 'InProgress'`)
	if err != nil {
		return fmt.Errorf("sync states: %w", err)
	}
	busy := make(map[int64]bool, len(inProgress))
	for _, id := range inProgress {
		busy[id] = true
	}
	rows, err := db.query(ctx, `
		SELECT i.id, i.name, i.version, i.state
		FROM instances i WHERE `+live+` ORDER BY i.id`)
	if err != nil {
		return fmt.Errorf("sync states: %w", err)
	}
	defer rows.Close()
	var st instancehub.SyncState
	for rows.Next() {
		if err := rows.Scan(&st.ID, &st.Name, &st.Version, &st.State); err != nil {
			return fmt.Errorf("sync states: %w", err)
		}
		st.Busy = busy[st.ID]
		fn(st)
	}
	return wrap(rows.Err(), "sync states")
}

// EachIdleClock calls fn with the idle clock of every live instance, in
// one query: the scheduler's minute tick over thousands of instances holds
// one at a time, not whole instances with their joins. fn must not use the
// store: the query is open while it runs.
func (db *DB) EachIdleClock(ctx context.Context, fn func(instancehub.IdleClock)) error {
	rows, err := db.query(ctx, `
		SELECT i.id, i.state, i.idle_shutdown_minutes, i.updated_at, i.last_activity_at,
		       i.idle_changed_at, i.keep_running_until, o.status, o.finished_at
		FROM instances i `+lastOperationJoin+`
		WHERE `+live+` ORDER BY i.id`)
	if err != nil {
		return fmt.Errorf("idle clocks: %w", err)
	}
	defer rows.Close()
	// One set of destinations for every row: declared in the loop, they
	// were made anew on the heap for each (Scan takes their addresses).
	var (
		c                                                     instancehub.IdleClock
		idleMinutes                                           int64
		updated, activity, idleChanged, keepRunning, finished sql.NullInt64
		status                                                sql.NullString
	)
	for rows.Next() {
		c = instancehub.IdleClock{}
		if err := rows.Scan(&c.ID, &c.State, &idleMinutes, &updated, &activity,
			&idleChanged, &keepRunning, &status, &finished); err != nil {
			return fmt.Errorf("idle clocks: %w", err)
		}
		c.IdleShutdown = time.Duration(idleMinutes) * time.Minute
		c.UpdatedAt, c.LastActivity = fromMillis(updated), zeroMillis(activity.Int64)
		c.IdleChangedAt, c.KeepRunningUntil = fromMillis(idleChanged), fromMillis(keepRunning)
		c.Busy = status.String == string(instancehub.StatusInProgress)
		c.LastFinished = fromMillis(finished)
		fn(c)
	}
	return wrap(rows.Err(), "idle clocks")
}

// SyncInstance sets the state of a live instance still at version that has
// no operation in progress, and reports whether anything changed. The
// checks and the change are one statement, so an operation that begins, or
// ends, meanwhile is never overwritten.
func (db *DB) SyncInstance(ctx context.Context, id, version int64, state instancehub.State) (bool, error) {
	res, err := db.exec(ctx, `
		UPDATE instances
		SET state = ?1, updated_at = ?2, version = version + 1
		WHERE id = ?3 AND version = ?4 AND state <> 'Deleted' AND state <> ?1
		  AND NOT EXISTS (SELECT 1 FROM operations o
		                  WHERE o.instance_id = instances.id AND o.status = 'InProgress')`,
		state, millis(db.now()), id, version)
	if err != nil {
		return false, fmt.Errorf("sync instance %d: %w", id, err)
	}
	n, err := rowsAffected(res)
	return n > 0, wrap(err, "sync instance %d", id)
}

// updateInstance applies what an operation learned to its instance.
func (db *DB) updateInstance(ctx context.Context, tx *Tx, id int64, update instancehub.InstanceUpdate) error {
	_, err := tx.ExecContext(ctx, `
		UPDATE instances SET state = ?, private_ip = ?, public_ip = ?, image = COALESCE(NULLIF(?, ''), image),
			updated_at = ?, version = version + 1 WHERE id = ?`,
		update.State, update.PrivateIP, update.PublicIP, update.Image, millis(db.now()), id)
	return err
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

func scanInstance(row scanner) (*instancehub.Instance, error) { return scanInstanceRow(row, true) }

// scanInstanceRow reads a row of instanceSelect, or of instanceBriefSelect
// when not full.
func scanInstanceRow(row scanner, full bool) (*instancehub.Instance, error) {
	var i instancehub.Instance
	var created, updated, activity, idleChanged, keepRunning sql.NullInt64
	var idleMinutes int64
	var tags, identities, setup string
	var op operationRow
	dest := []any{&i.ID, &i.Name, &i.Region, &i.VMSize, &i.Family, &i.VCPUs, &i.MemoryGiB, &i.GPUs,
		&i.SSHEnabled, &i.State, &i.Image,
		&i.OwnerID, &i.OwnerName, &i.CreatedByID, &i.CreatedByName,
		&created, &i.Version, &activity, &idleMinutes, &idleChanged, &keepRunning}
	if full {
		dest = append(dest, &i.SSHPublicKey, &i.SSHPort, &i.VirtualNetwork, &i.Subnet,
			&i.PrivateIP, &i.PublicIP, &i.AppSecret, &i.OwnerEmail, &updated,
			&i.Description, &tags, &i.Identity.SystemAssigned, &identities, &i.IdempotencyKey, &setup)
	}
	if err := row.Scan(append(dest, op.dest()...)...); err != nil {
		return nil, err
	}
	if full {
		if err := fromJSONText(tags, &i.Tags); err != nil {
			return nil, fmt.Errorf("tags of %s: %w", i.Name, err)
		}
		if err := fromJSONText(identities, &i.Identity.UserAssigned); err != nil {
			return nil, fmt.Errorf("identities of %s: %w", i.Name, err)
		}
		if err := fromJSONText(setup, &i.Setup); err != nil {
			return nil, fmt.Errorf("setup scripts of %s: %w", i.Name, err)
		}
		i.UpdatedAt = fromMillis(updated)
	}
	i.CreatedAt = fromMillis(created)
	i.LastActivity = zeroMillis(activity.Int64)
	i.IdleShutdown = time.Duration(idleMinutes) * time.Minute
	i.IdleChangedAt, i.KeepRunningUntil = fromMillis(idleChanged), fromMillis(keepRunning)
	i.LastOperation = op.operation()
	return &i, nil
}

func scanInstances(rows *sql.Rows) ([]*instancehub.Instance, error) {
	return scanInstanceRows(rows, true)
}

// scanInstanceRows reads each row as scanInstanceRow does.
func scanInstanceRows(rows *sql.Rows, full bool) ([]*instancehub.Instance, error) {
	defer rows.Close()
	var instances []*instancehub.Instance
	for rows.Next() {
		inst, err := scanInstanceRow(rows, full)
		if err != nil {
			return nil, err
		}
		instances = append(instances, inst)
	}
	return instances, rows.Err()
}

// SetSSHKey records the SSH public key Azure added to a live instance; the
// version moves on, so that kept pages show it.
func (db *DB) SetSSHKey(ctx context.Context, id int64, key string) error {
	res, err := db.exec(ctx, `UPDATE instances SET ssh_public_key = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND state <> 'Deleted'`, key, millis(db.now()), id)
	if err != nil {
		return fmt.Errorf("set the SSH key of instance %d: %w", id, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return instancehub.Errorf(instancehub.ENOTFOUND, "Instance not found.")
	}
	return nil
}

// RecordActivity sets the last activity of the live instance name to at,
// unless it is later already; the version stays, as this is no change the
// sync could conflict with.
func (db *DB) RecordActivity(ctx context.Context, name string, at time.Time) error {
	_, err := db.exec(ctx, `
		UPDATE instances SET last_activity_at = ?
		WHERE name = ? AND `+strings.ReplaceAll(live, "i.", "")+` AND last_activity_at < ?`,
		millis(at), name, millis(at))
	return wrap(err, "record activity of %s", name)
}

// jsonText stores a map or list as JSON, and an empty one as "".
func jsonText[T any](v T) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" || string(b) == "{}" || string(b) == "[]" {
		return ""
	}
	return string(b)
}

// fromJSONText reads what jsonText stored.
func fromJSONText(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}
