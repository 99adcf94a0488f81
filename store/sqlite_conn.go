package store

import (
	"context"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// writable opens the store's SQLite connections, each read-write or not at
// all. SQLite opens a file it may not write (a disk remounted read-only,
// a file made immutable or given away for a moment) read-only without a
// word, and database/sql keeps such a connection in its pool for good:
// every write it is handed fails, long after the file is writable again,
// and a portal on it could record nothing until restarted. Refused at
// open, the connection is opened again, read-write, by a later request.
var writable = func() *sqlite.Driver {
	d := &sqlite.Driver{}
	d.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
		conn, ok := c.(interface{ IsReadOnly(string) (bool, error) })
		if !ok {
			return nil
		}
		switch readOnly, err := conn.IsReadOnly("main"); {
		case err != nil:
			return err
		case readOnly:
			return errReadOnly
		}
		return nil
	})
	return d
}()

var errReadOnly = errors.New("the database file cannot be written to: it opened read-only")

// connector opens connections to one database with a driver.
type connector struct {
	dsn string
	d   *sqlite.Driver
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.d }
