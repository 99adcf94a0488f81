package amlyaml

import (
	"fmt"
	"strings"

	"github.com/instancehub/instancehub"
	"go.yaml.in/yaml/v3"
)

// maxProblems bounds how many problems one refusal lists: a file of
// thousands of wrong keys gets the first ones, not a page of them.
const maxProblems = 50

// fileField is the field of problems with the file as a whole (too large,
// not YAML, two documents), which have no key.
const fileField = "file"

// problem is one thing wrong with the file, where it is.
type problem struct {
	path         string
	line, column int
	message      string
}

// problems collects what is wrong with a file, so that its author sees it
// all at once instead of one fix per try.
type problems struct {
	list []problem
	more bool
}

// at records a problem at node n of the key path.
func (p *problems) at(path string, n *yaml.Node, format string, args ...any) {
	line, column := 1, 1
	if n != nil && n.Line > 0 {
		line, column = n.Line, n.Column
	}
	p.add(problem{path: path, line: line, column: column, message: fmt.Sprintf(format, args...)})
}

func (p *problems) add(pr problem) {
	if len(p.list) >= maxProblems {
		p.more = true
		return
	}
	if pr.path == "" {
		pr.path = fileField
	}
	p.list = append(p.list, pr)
}

// err is the one EINVALID error listing the problems, nil if none. Fields
// are keyed by key path; two problems of one key share its field.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	fields := map[string]string{}
	for _, pr := range p.list {
		text := pr.text()
		if prev, ok := fields[pr.path]; ok {
			text = prev + "; " + text
		}
		fields[pr.path] = text
	}
	return &instancehub.Error{Code: instancehub.EINVALID, Message: p.summary(), Fields: fields}
}

func (p *problems) summary() string {
	switch {
	case p.more:
		return fmt.Sprintf("The file has more than %d problems; here are the first %d.", maxProblems, maxProblems)
	case len(p.list) == 1:
		return "The file has 1 problem."
	}
	return fmt.Sprintf("The file has %d problems.", len(p.list))
}

func (pr problem) text() string {
	if pr.column == 0 {
		// The YAML parser says only the line of a syntax error.
		return fmt.Sprintf("line %d: %s", pr.line, pr.message)
	}
	return fmt.Sprintf("line %d, column %d: %s", pr.line, pr.column, pr.message)
}

// suggest names the known key closest to an unknown one, for a typo: "" when
// none is close enough to be what was meant.
func suggest(key string, known []string) string {
	best, bestDistance := "", 3
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return k
		}
		// A short key needs a closer match: "id" is not a typo of "size".
		limit := min(2, len(k)/3)
		if len(key) >= 4 && strings.HasPrefix(k, strings.ToLower(key)) && bestDistance > 2 {
			best, bestDistance = k, 2 // a key cut short: vnet for vnet_name
		}
		if len(k) >= 4 && hasSuffixedKey(strings.ToLower(key), k) && bestDistance > 2 {
			best, bestDistance = k, 2 // a key with a suffix: size_x, identity-type
		}
		if d := distance(strings.ToLower(key), k); d <= limit && d < bestDistance {
			best, bestDistance = k, d
		}
	}
	return best
}

// hasSuffixedKey reports whether key is the known key k followed by a
// separator and more: size_x or identity-type, not sizeable.
func hasSuffixedKey(key, k string) bool {
	rest, ok := strings.CutPrefix(key, k)
	return ok && rest != "" && strings.ContainsRune("-_. ", rune(rest[0]))
}

// distance is the Levenshtein distance of a and b, in bytes; keys are ASCII.
// A key over 100 bytes is not a typo of any known key.
func distance(a, b string) int {
	if len(a) > 100 {
		return len(a)
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
