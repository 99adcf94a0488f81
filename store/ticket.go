package store

import (
	"context"
	"fmt"
	"time"

	"github.com/instancehub/instancehub"
)

// SpendTicket records the redemption of the application ticket id, valid
// until expires, and forgets those expired by now. EUNAUTHORIZED when it
// was redeemed already, by this portal or another on the database.
func (db *DB) SpendTicket(ctx context.Context, id string, expires, now time.Time) error {
	var fresh bool
	err := db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM spent_tickets WHERE expires_at < ?`, millis(now)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO spent_tickets (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
			id, millis(expires))
		if err != nil {
			return err
		}
		n, err := rowsAffected(res)
		fresh = n == 1
		return err
	})
	if err != nil {
		return fmt.Errorf("spend ticket: %w", err)
	}
	if !fresh {
		return instancehub.Errorf(instancehub.EUNAUTHORIZED, "This sign-in link has been used already. Open the application again from the portal.")
	}
	return nil
}
