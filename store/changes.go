package store

import (
	"context"
	"database/sql"
	"sync"

	"github.com/instancehub/instancehub"
)

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

// maxCachedPages bounds the pages of instances kept per data version: the
// filters people use at once (pages, searches, sorts).
const maxCachedPages = 128

// pageCache keeps FindInstances' answers for the data version they were
// read at; any commit empties it.
type pageCache struct {
	mu      sync.Mutex
	version int64
	pages   map[instancehub.InstanceFilter]cachedPage
}

type cachedPage struct {
	instances []*instancehub.Instance
	total     int
}

func (p *pageCache) get(version int64, f instancehub.InstanceFilter) (cachedPage, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.version != version {
		return cachedPage{}, false
	}
	page, ok := p.pages[f]
	return page, ok
}

// put keeps a page read after version was; a page read at an older
// version than the cache's is dropped.
func (p *pageCache) put(version int64, f instancehub.InstanceFilter, page cachedPage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if version < p.version {
		return
	}
	if version != p.version || p.pages == nil || len(p.pages) >= maxCachedPages {
		p.version, p.pages = version, make(map[instancehub.InstanceFilter]cachedPage)
	}
	p.pages[f] = page
}

// copies returns copies of the kept instances, which callers may change
// (the service sets each one's Access).
func copies(kept []*instancehub.Instance) []*instancehub.Instance {
	out := make([]*instancehub.Instance, len(kept))
	for i, inst := range kept {
		c := *inst
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

// maxCachedSessions bounds the sessions kept per data version.
const maxCachedSessions = 10_000

// sessionCache keeps FindSession's answers for the data version they were
// read at: every request of a signed-in user asks for its session, and
// anything that could change the answer (a sign-out, a role, a rename, the
// last-seen time) is a commit, which empties it.
type sessionCache struct {
	mu       sync.Mutex
	version  int64
	sessions map[string]*instancehub.Session
}

func (c *sessionCache) get(version int64, hash string) (*instancehub.Session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != version {
		return nil, false
	}
	s, ok := c.sessions[hash]
	return s, ok
}

func (c *sessionCache) put(version int64, s *instancehub.Session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.version {
		return
	}
	if version != c.version || c.sessions == nil || len(c.sessions) >= maxCachedSessions {
		c.version, c.sessions = version, make(map[string]*instancehub.Session)
	}
	c.sessions[s.TokenHash] = s
}

// copySession returns a copy a caller may change.
func copySession(s *instancehub.Session) *instancehub.Session {
	c := *s
	u := *s.User
	u.Roles = append([]instancehub.Role(nil), s.User.Roles...)
	c.User = &u
	return &c
}

// byVersion keeps values by key for the data version they were read at;
// any commit empties it.
type byVersion[T any] struct {
	mu      sync.Mutex
	version int64
	values  map[string]T
}

// maxByVersion bounds the keys a byVersion keeps.
const maxByVersion = 1024

func (c *byVersion[T]) get(version int64, key string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero T
	if c.version != version {
		return zero, false
	}
	v, ok := c.values[key]
	return v, ok
}

func (c *byVersion[T]) put(version int64, key string, v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.version {
		return
	}
	if version != c.version || c.values == nil || len(c.values) >= maxByVersion {
		c.version, c.values = version, make(map[string]T)
	}
	c.values[key] = v
}
