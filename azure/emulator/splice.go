package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// The group's list writes each VM from its stored body, which the emulator
// wrote itself (mustJSON of the PUT as applied): compact, valid JSON. A
// VM's listing is that body with what is computed on read spliced in, so
// the list finds the members it changes by scanning the bytes, and copies
// the rest as they are, rather than decoding and encoding every VM.

var errNotObject = errors.New("not a JSON object")

// member is a member of a JSON object: its name as written (quoted) and its
// value's bytes.
type member struct{ name, value []byte }

// members calls each with the members of the object b holds, in order.
func members(b []byte, each func(member) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errNotObject
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for i < len(b) {
		end, err := skipString(b, i)
		if err != nil {
			return err
		}
		name := b[i:end]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return errNotObject
		}
		i = skipSpace(b, i+1)
		end, err = skipValue(b, i)
		if err != nil {
			return err
		}
		if err := each(member{name, b[i:end]}); err != nil {
			return err
		}
		i = skipSpace(b, end)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			return nil
		default:
			return errNotObject
		}
	}
	return errNotObject
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the end of the string starting at b[i].
func skipString(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, errNotObject
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("unterminated string")
}

// skipValue returns the end of the value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("missing value")
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unterminated value")
	default: // a number, true, false or null
		j := i
		for j < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[j])) {
			j++
		}
		if j == i {
			return 0, fmt.Errorf("unexpected %q", b[i])
		}
		return j, nil
	}
}

// is reports whether a member's quoted name is name (names the emulator
// writes have no escapes).
func (m member) is(name string) bool {
	return len(m.name) == len(name)+2 && string(m.name[1:len(m.name)-1]) == name
}

// writeMember writes a member, after a comma unless it is the first.
func writeMember(w *bytes.Buffer, first *bool, name []byte, value []byte) {
	if !*first {
		w.WriteByte(',')
	}
	*first = false
	w.Write(name)
	w.WriteByte(':')
	w.Write(value)
}
