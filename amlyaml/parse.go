package amlyaml

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds a file: a compute instance's file takes a few hundred
// bytes, and the bound keeps every string it holds under it.
const MaxFileSize = 64 << 10

// parse reads data's one document into its root mapping's node, nil when
// it is not one. Anchors and aliases are refused wherever they are: a file
// has no use for them, and an alias repeated is how a small file expands
// into a huge one.
func (d *decoder) parse(data []byte) *yaml.Node {
	if len(data) > MaxFileSize {
		d.at("", nil, "the file has %d bytes: at most %d (64 KiB)", len(data), MaxFileSize)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		d.at("", nil, "the file is empty: give at least name and type: computeinstance")
		return nil
	} else if err != nil {
		d.syntax(err)
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		d.at("", &next, "a file describes one compute instance: remove the second document (after ---)")
	} else if !errors.Is(err, io.EOF) {
		d.syntax(err)
	}
	if len(doc.Content) == 0 {
		d.at("", nil, "the file is empty: give at least name and type: computeinstance")
		return nil
	}
	d.noAliases("", &doc)
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		d.at("", root, "the file must be a mapping of keys such as name: and type:, not %s", describe(root))
		return nil
	}
	return root
}

// syntaxError is how the YAML parser words its errors; it gives the line
// but not the column.
var syntaxError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (d *decoder) syntax(err error) {
	m := syntaxError.FindStringSubmatch(err.Error())
	if m == nil {
		d.at("", nil, "the file is not YAML or JSON: %s", clip(err.Error()))
		return
	}
	line, _ := strconv.Atoi(m[1])
	d.add(problem{line: max(line, 1), message: "the file is not YAML or JSON: " + clip(m[2])})
}

// noAliases reports every anchor and alias under n.
func (d *decoder) noAliases(path string, n *yaml.Node) {
	switch {
	case n.Kind == yaml.AliasNode:
		d.at(path, n, "aliases (*%s) are not supported: write the value out", clip(n.Value))
		return
	case n.Anchor != "":
		d.at(path, n, "anchors (&%s) are not supported: write the value out where it is needed", clip(n.Anchor))
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			d.noAliases(join(path, n.Content[i].Value), n.Content[i])
			d.noAliases(join(path, n.Content[i].Value), n.Content[i+1])
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			d.noAliases(index(path, i), c)
		}
	case yaml.DocumentNode:
		for _, c := range n.Content {
			d.noAliases(path, c)
		}
	}
}
