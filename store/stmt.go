package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// maxStatements bounds the prepared statements kept: the store's queries
// are a few dozen texts (filters only vary their arguments), so the bound
// only guards against a caller that builds texts from input.
const maxStatements = 256

// statements keeps each query text prepared once. Parsing and planning a
// query costs SQLite more than running the store's small ones (a profile of
// the list page put 80 % of the store's time in sqlite3Prepare), and
// database/sql prepares a kept statement again on each connection it meets.
type statements struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func (s *statements) get(ctx context.Context, db *sql.DB, d *dialect, query string) (*sql.Stmt, error) {
	s.mu.Lock()
	stmt := s.stmts[query]
	s.mu.Unlock()
	if stmt != nil {
		return stmt, nil
	}
	stmt, err := db.PrepareContext(ctx, d.rebind(query))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stmts == nil || len(s.stmts) >= maxStatements {
		s.stmts = make(map[string]*sql.Stmt)
	}
	if kept := s.stmts[query]; kept != nil {
		_ = stmt.Close() // another caller prepared it meanwhile
		return kept, nil
	}
	s.stmts[query] = stmt
	return stmt, nil
}

func (s *statements) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, stmt := range s.stmts {
		_ = stmt.Close()
	}
	s.stmts = nil
}

// query, queryRow and exec run a statement outside a transaction through
// the kept prepared statements.
// Each is timed up to its first row (query, queryRow) or its end (exec).
func (db *DB) query(ctx context.Context, query string, args ...any) (rows *sql.Rows, err error) {
	began := time.Now()
	defer func() { db.timed(QueryRead, began, err) }()
	stmt, err := db.stmts.get(ctx, db.db, db.d, query)
	if err != nil {
		return nil, err
	}
	return stmt.QueryContext(ctx, args...)
}

func (db *DB) queryRow(ctx context.Context, query string, args ...any) (row *sql.Row) {
	began := time.Now()
	defer func() { db.timed(QueryRead, began, row.Err()) }()
	stmt, err := db.stmts.get(ctx, db.db, db.d, query)
	if err != nil {
		// A Row carrying the error: Scan returns it.
		return db.db.QueryRowContext(ctx, db.d.rebind(query), args...)
	}
	return stmt.QueryRowContext(ctx, args...)
}

// On PostgreSQL, exec writes in a transaction that takes the write lock
// (inTx), as SQLite's single writer would.
func (db *DB) exec(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	if db.d.postgres() { // timed as a transaction
		err = db.inTx(ctx, func(tx *Tx) error {
			var err error
			res, err = tx.ExecContext(ctx, query, args...)
			return err
		})
		return res, err
	}
	began := time.Now()
	defer func() { wrote(ctx); err = db.written(err); db.timed(QueryWrite, began, err) }()
	defer db.lockWrites()()
	stmt, err := db.stmts.get(ctx, db.db, db.d, query)
	if err != nil {
		return nil, err
	}
	return stmt.ExecContext(ctx, args...)
}
