package views

import (
	"bytes"
	"context"
	"io"

	"github.com/a-h/templ"
	"github.com/instancehub/instancehub"
)

// keptToolbar is detailToolbar kept as rendered by everything it shows
// (toolbarKey): the five action buttons, each a form, took nearly half of
// the details' templates, and they change only with the instance's name
// and state and the session's CSRF token, which the forms carry.
func keptToolbar(inst *instancehub.Instance) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		k := toolbarKeyOf(inst, page(ctx).CSRFToken)
		if b, ok := toolbars.get(k); ok {
			_, err := w.Write(b)
			return err
		}
		var buf bytes.Buffer
		// Rendered with only the page's CSRF token: it cannot show more
		// of the page than its key holds.
		bare := WithPage(context.Background(), &Page{CSRFToken: k.csrf})
		if err := detailToolbar(inst).Render(bare, &buf); err != nil {
			return err
		}
		toolbars.put(k, buf.Bytes())
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// toolbarKey is everything detailToolbar shows. A field the toolbar comes
// to show must be added here: TestToolbarKeyHoldsWhatTheToolbarShows
// renders it for a change of each of the instance's fields and fails when
// the toolbar changes but its key does not.
type toolbarKey struct {
	name  string
	state instancehub.State
	csrf  string
}

func toolbarKeyOf(inst *instancehub.Instance, csrf string) toolbarKey {
	return toolbarKey{name: inst.Name, state: inst.State, csrf: csrf}
}

// toolbars keeps the toolbars keptToolbar rendered: an instance's, for
// each state it passes and each session that looks at it.
var toolbars = &keptParts[toolbarKey]{max: 4096}
