package store

import (
	"context"
	"database/sql"
	"maps"
	"slices"
	"sync"

	"github.com/instancehub/instancehub"
)

// changeCounter tells whether anything was committed since a moment.
type changeCounter interface {
	version(ctx context.Context) (int64, error)
	close() error
}

// changes tells whether anything was committed to the database since a
// moment: SQLite's data_version, read on a connection of its own that never
// writes, changes whenever another connection commits, be it one of this
// process's pool or another process's (the CLI, a second portal). Reads
// that nothing has changed since are served from memory, so that a
// department polling the list all day costs no query while nothing moves.
type changes struct {
	mu   sync.Mutex
	conn *sql.DB // one connection
}

func openChanges(path string) (*changes, error) {
	conn, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	conn.SetConnMaxLifetime(0)
	conn.SetConnMaxIdleTime(0) // data_version is per connection: keep this one
	return &changes{conn: conn}, nil
}

// version returns the database's current data version on the watching
// connection; it differs from an earlier one if anything was committed in
// between.
func (c *changes) version(ctx context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var v int64
	err := c.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
	return v, err
}

func (c *changes) close() error { return c.conn.Close() }

// cachedPage is a page of FindInstances' answer.
type cachedPage struct {
	instances []*instancehub.Instance
	total     int
}

// copies returns copies of the kept instances, which callers may change
// (the service sets each one's Access).
func copies(kept []*instancehub.Instance) []*instancehub.Instance {
	out := make([]*instancehub.Instance, len(kept))
	for i, inst := range kept {
		c := *inst
		c.Tags = maps.Clone(inst.Tags)
		c.Identity.UserAssigned = slices.Clone(inst.Identity.UserAssigned)
		if inst.LastOperation != nil {
			op := *inst.LastOperation
			c.LastOperation = &op
		}
		out[i] = &c
	}
	return out
}

// DataVersion returns the database's data version: it differs from an
// earlier one whenever anything was committed in between, by this process
// or another.
func (db *DB) DataVersion(ctx context.Context) (int64, error) { return db.changes.version(ctx) }

// copySession returns a copy a caller may change.
func copySession(s *instancehub.Session) *instancehub.Session {
	c := *s
	u := *s.User
	u.Roles = append([]instancehub.Role(nil), s.User.Roles...)
	c.User = &u
	return &c
}

// byVersion keeps values by key for the data version they were read at;
// any commit empties it. It holds at most max keys: past them it starts
// over, which costs at most a read each.
type byVersion[K comparable, V any] struct {
	max     int
	mu      sync.Mutex
	version int64
	values  map[K]V
}

func newByVersion[K comparable, V any](max int) byVersion[K, V] {
	return byVersion[K, V]{max: max}
}

func (c *byVersion[K, V]) get(version int64, key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	if c.version != version {
		return zero, false
	}
	v, ok := c.values[key]
	return v, ok
}

// put keeps a value read after version was; one read at an older version
// than the cache's is dropped.
func (c *byVersion[K, V]) put(version int64, key K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.version {
		return
	}
	if version != c.version || c.values == nil || len(c.values) >= c.max {
		c.version, c.values = version, make(map[K]V)
	}
	c.values[key] = v
}
