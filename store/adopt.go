package store

import (
	"context"

	"github.com/instancehub/instancehub"
)

// AdoptInstance inserts an instance whose VM outlived its record, as it is
// in Azure, with no operation and no workspace quota check: the VM holds its
// cores whether the portal counts them or not. ECONFLICT when a live
// instance has the same name.
func (db *DB) AdoptInstance(ctx context.Context, inst *instancehub.Instance) error {
	inst.CreatedAt = db.orNow(inst.CreatedAt)
	inst.UpdatedAt = db.now()
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := insertInstance(ctx, tx, inst); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE instances SET image = ? WHERE id = ?`, inst.Image, inst.ID)
		return err
	})
	return wrap(err, "adopt instance %s", inst.Name)
}
