package amlyaml

import (
	"fmt"
	"slices"
	"strings"

	"github.com/instancehub/instancehub"
	"go.yaml.in/yaml/v3"
)

// maxEntries bounds a list or mapping whose length the schema leaves open
// (tags, user-assigned identities): the service checks Azure's own bounds,
// this only keeps what a file makes Decode hold in proportion.
const maxEntries = 1000

// decoder reads a file's node tree, collecting its problems.
type decoder struct {
	problems
	// positions holds where each key read was: "line L, column C" by key
	// path, for the service's refusals of values to point at.
	positions map[string]string
}

// keySet is what a mapping of the file may hold.
type keySet struct {
	// read are the keys the caller reads.
	read []string
	// shown are the read-only keys az ml compute show prints: accepted and
	// ignored, so that a shown file can be applied again.
	shown []string
	// unsupported are features of the reference the portal lacks: why,
	// in a short sentence, and the one value that asks for nothing the
	// portal does not do anyway ("" when none does).
	unsupported map[string]feature
}

// feature is a key of the reference the portal does not support.
type feature struct {
	why string
	// fine is the value the portal's behaviour matches, such as
	// enable_sso: true; "" when no value but an empty one is fine.
	fine string
}

func (ks keySet) all() []string {
	all := slices.Concat(ks.read, ks.shown)
	for k := range ks.unsupported {
		all = append(all, k)
	}
	slices.Sort(all)
	return all
}

// mapping reads mapping n at path: the values of the keys the caller reads,
// by key. It reports unknown and duplicate keys and unsupported features.
// A null n (an empty value) is an empty mapping; a wrong kind gives nil.
func (d *decoder) mapping(path string, n *yaml.Node, ks keySet) map[string]*yaml.Node {
	if null(n) || !d.kind(path, n, yaml.MappingNode, "a mapping") {
		return nil
	}
	values := map[string]*yaml.Node{}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		name, ok := d.key(path, key)
		if !ok {
			continue
		}
		keyPath := join(path, name)
		if seen[name] {
			d.at(keyPath, key, "duplicate key %q: give each key once", clip(name))
			continue
		}
		seen[name] = true
		switch {
		case slices.Contains(ks.read, name):
			values[name] = value
			if d.positions != nil {
				d.positions[keyPath] = fmt.Sprintf("line %d, column %d", key.Line, key.Column)
			}
		case slices.Contains(ks.shown, name):
		case ks.unsupported[name].why != "":
			d.feature(keyPath, name, value, ks.unsupported[name])
		default:
			d.unknown(keyPath, key, name, ks.all())
		}
	}
	return values
}

// key reads a mapping's key: a scalar, whose text is its name.
func (d *decoder) key(path string, key *yaml.Node) (string, bool) {
	if key.Kind == yaml.AliasNode {
		return "", false // reported already
	}
	if key.Kind != yaml.ScalarNode {
		d.at(path, key, "a key must be a name, not %s", describe(key))
		return "", false
	}
	return key.Value, true
}

func (d *decoder) unknown(path string, key *yaml.Node, name string, known []string) {
	if s := suggest(name, known); s != "" {
		d.at(path, key, "unknown key %q (did you mean %q?)", clip(name), s)
		return
	}
	d.at(path, key, "unknown key %q", clip(name))
}

// feature refuses an unsupported feature unless its value asks for nothing
// the portal does not do.
func (d *decoder) feature(path, name string, value *yaml.Node, f feature) {
	if empty(value) || f.fine != "" && value.Kind == yaml.ScalarNode && strings.EqualFold(value.Value, f.fine) {
		return
	}
	if value.Kind == yaml.ScalarNode && value.ShortTag() == "!!bool" {
		d.at(path, value, "%s: %s is not supported by instancehub: %s", name, value.Value, f.why)
		return
	}
	d.at(path, value, "%s is not supported by instancehub: %s", name, f.why)
}

// kind reports whether n is of kind k, reporting a problem when it is not.
// An alias is never of the kind wanted, and was reported already.
func (d *decoder) kind(path string, n *yaml.Node, k yaml.Kind, what string) bool {
	switch {
	case n.Kind == k:
		return true
	case n.Kind != yaml.AliasNode:
		d.at(path, n, "%s must be %s, not %s", last(path), what, describe(n))
	}
	return false
}

// str reads a string. An absent, empty or null value gives ok false
// without a problem, as does a wrong kind, with one.
func (d *decoder) str(path string, n *yaml.Node) (string, bool) {
	if null(n) || !d.kind(path, n, yaml.ScalarNode, "a string") {
		return "", false
	}
	if n.ShortTag() != "!!str" {
		d.at(path, n, "%s must be a string, not %s (quote it: %q)", last(path), describe(n), clip(n.Value))
		return "", false
	}
	return n.Value, n.Value != ""
}

// boolean reads true or false.
func (d *decoder) boolean(path string, n *yaml.Node) (v, ok bool) {
	if null(n) || !d.kind(path, n, yaml.ScalarNode, "true or false") {
		return false, false
	}
	if n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		d.at(path, n, "%s must be true or false, not %q", last(path), clip(n.Value))
		return false, false
	}
	return v, true
}

// integer reads a whole number.
func (d *decoder) integer(path string, n *yaml.Node) (v int64, ok bool) {
	if null(n) || !d.kind(path, n, yaml.ScalarNode, "a whole number") {
		return 0, false
	}
	if n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		d.at(path, n, "%s must be a whole number, not %q", last(path), clip(n.Value))
		return 0, false
	}
	return v, true
}

// list reads a sequence of at most limit items.
func (d *decoder) list(path string, n *yaml.Node, limit int, what string) []*yaml.Node {
	if null(n) || !d.kind(path, n, yaml.SequenceNode, "a list") {
		return nil
	}
	if len(n.Content) > limit {
		d.at(path, n, "%s has %d items: at most %d %s", last(path), len(n.Content), limit, what)
		return nil
	}
	return n.Content
}

// null reports whether n is absent or an empty value (key: or key: null).
func null(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// pos is where a problem with n is: n, or its parent when n is absent.
func pos(n, parent *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return parent
}

// blank reports whether n gives no value: null or "".
func blank(n *yaml.Node) bool {
	return null(n) || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && n.Value == ""
}

// empty reports whether n asks for nothing: null, "", [] or {}.
func empty(n *yaml.Node) bool {
	switch {
	case null(n):
		return true
	case n.Kind == yaml.ScalarNode:
		return n.ShortTag() == "!!str" && n.Value == ""
	case n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode:
		return len(n.Content) == 0
	}
	return false
}

// describe names the kind of value n is, for a message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!str":
		return "a string"
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "empty"
	}
	return fmt.Sprintf("a value tagged %s", clip(n.Tag))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// last is the key a path ends with, which a message names.
func last(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// clip shortens a value a message quotes.
func clip(s string) string { return instancehub.Clip(s, 60) }
