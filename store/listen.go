package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/jackc/pgx/v5"
)

// instancesChannel is what migration 00025 of migrations_postgres notifies
// with the ID of each instance whose record or operation changed.
const instancesChannel = "instancehub_instances"

// Shared reports whether other replicas may write to the database
// (PostgreSQL), so that the changes to tell open pages of are heard from it
// (ListenInstanceChanges) rather than from this process's writes alone.
func (db *DB) Shared() bool {
	_, ok := db.changes.(pgChanges)
	return ok
}

// ListenInstanceChanges implements instancehub.ChangeListener on
// PostgreSQL: it tells changed of every change to an instance that any
// replica commits, as PostgreSQL delivers the notifications (at commit), on
// a connection of its own, until ctx ends. It tells resumed each time it
// starts listening: with nil the first time, and, when the connection was
// lost and it could connect again (it tries every second), with why it was
// lost, since what changed meanwhile was not heard. EINVALID on SQLite, whose only portal
// hears its own writes.
func (db *DB) ListenInstanceChanges(ctx context.Context, changed func(instancehub.InstanceChange), resumed func(lost error)) error {
	pg, ok := db.changes.(pgChanges)
	if !ok {
		return instancehub.Errorf(instancehub.EINVALID, "Only a PostgreSQL database tells of other replicas' changes.")
	}
	var lost error // why the last connection ended; nil at first
	for {
		err := listen(ctx, pg.url, changed, func() {
			resumed(lost)
			lost = nil
		})
		if ctx.Err() != nil {
			return nil
		}
		if lost == nil {
			lost = err
			if lost == nil {
				lost = errors.New("the connection ended")
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// listen holds one connection listening on instancesChannel until it fails
// or ctx ends; listening tells that it started.
func listen(ctx context.Context, url string, changed func(instancehub.InstanceChange), listening func()) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+instancesChannel); err != nil {
		return err
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if id, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
			changed(instancehub.InstanceChange{ID: id})
		}
	}
}
