package instancehub

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"
)

// The audit log's retention. Events older than a cut-off are written to a
// file of JSON lines, one event a line, oldest first; the file is read back
// and its count and SHA-256 compared with what was written; and only then
// are the events removed, in one transaction that reads them once more,
// checks that they are still what the file holds, and records the archive.
// The record is what lets the database's triggers allow the removal, of
// those events alone, and it is kept for good: the log stays append-only
// in spirit, every event either in it or in a checked file it names.
//
// JSON lines rather than CSV: an archive must hold the events exactly as
// they were, and the CSV export rewrites what a spreadsheet would run as a
// formula; JSON keeps any text as it is, numbers as numbers, and each line
// stands alone, so a damaged file fails the check line by line.

// AuditKeptDays is how many days of events always stay in the log: the
// cut-off of an archive is at least that many days before today (UTC), so
// that what people may still be looking into is never moved out.
const AuditKeptDays = 30

// MaxAuditArchive bounds the events one archive moves, so that the
// transaction that reads them again and removes them stays short: SQLite
// has one writer, whom every other write waits for (5 s at most), and
// PostgreSQL's replicas share one write lock. 100,000 events take about
// 1.4 s there on a loaded two-core machine. More are archived in steps.
const MaxAuditArchive = 100_000

// AuditArchive is one archive of the audit log: which events it moved out,
// into which file, and who asked.
type AuditArchive struct {
	ID int64
	At time.Time // when it was made
	// UserID, UserName and UserEmail say who archived; UserID is 0 for the
	// server's command line.
	UserID    int64
	UserName  string
	UserEmail string
	Before    time.Time // the cut-off: the events before it
	First     time.Time // the oldest event archived
	Last      time.Time // the newest event archived
	LastID    int64     // the highest ID archived
	Count     int       // how many events
	File      string    // where the file was written
	Digest    string    // the file's SHA-256, hex
}

// AuditSpan is what the log holds before a cut-off.
type AuditSpan struct {
	Count       int
	First, Last time.Time
	LastID      int64
}

// archivedEvent is an event as an archive file holds it: every field, and
// times in UTC to the millisecond, as the log keeps them.
type archivedEvent struct {
	ID            int64  `json:"id"`
	Time          string `json:"time_utc"`
	UserID        int64  `json:"user_id"`
	UserName      string `json:"user_name"`
	UserEmail     string `json:"user_email"`
	Action        string `json:"action"`
	Target        string `json:"target"`
	Result        string `json:"result"`
	Reason        string `json:"reason"`
	SourceAddress string `json:"source_address"`
	Count         int    `json:"count"`
}

const archiveTimeFormat = "2006-01-02T15:04:05.000Z"

// AuditArchiveWriter writes events as an archive file's lines, counting
// them and hashing what it writes. The store writes the events it is about
// to remove through one to io.Discard, to compare with the file's.
type AuditArchiveWriter struct {
	w           io.Writer
	h           hash.Hash
	count       int
	first, last time.Time
	lastID      int64
}

// NewAuditArchiveWriter writes an archive to w.
func NewAuditArchiveWriter(w io.Writer) *AuditArchiveWriter {
	h := sha256.New()
	return &AuditArchiveWriter{w: io.MultiWriter(w, h), h: h}
}

// Write adds e as the archive's next line.
func (a *AuditArchiveWriter) Write(e *AuditEvent) error {
	line, err := json.Marshal(archivedEvent{ID: e.ID, Time: e.At.UTC().Format(archiveTimeFormat), UserID: e.UserID,
		UserName: e.UserName, UserEmail: e.UserEmail, Action: e.Action, Target: e.Target, Result: e.Result,
		Reason: e.Reason, SourceAddress: e.SourceIP, Count: e.Count})
	if err != nil {
		return err
	}
	if _, err := a.w.Write(append(line, '\n')); err != nil {
		return err
	}
	if a.count == 0 {
		a.first = e.At
	}
	a.count, a.last, a.lastID = a.count+1, e.At, max(a.lastID, e.ID)
	return nil
}

// Count is how many events were written.
func (a *AuditArchiveWriter) Count() int { return a.count }

// Digest is the SHA-256 of what was written, hex.
func (a *AuditArchiveWriter) Digest() string { return hex.EncodeToString(a.h.Sum(nil)) }

// ReadAuditArchive reads an archive file back: it counts its events,
// refusing any line that is not one, and hashes its bytes.
func ReadAuditArchive(r io.Reader) (count int, digest string, err error) {
	h := sha256.New()
	br := bufio.NewReader(io.TeeReader(r, h))
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if !bytes.HasSuffix(line, []byte("\n")) {
				return count, "", fmt.Errorf("line %d is cut short", count+1)
			}
			var e archivedEvent
			dec := json.NewDecoder(bytes.NewReader(line))
			dec.DisallowUnknownFields()
			if derr := dec.Decode(&e); derr != nil || e.ID <= 0 || e.Action == "" {
				return count, "", fmt.Errorf("line %d is not an audit event", count+1)
			}
			if _, terr := time.Parse(archiveTimeFormat, e.Time); terr != nil {
				return count, "", fmt.Errorf("line %d has no time", count+1)
			}
			count++
		}
		if err == io.EOF {
			return count, hex.EncodeToString(h.Sum(nil)), nil
		} else if err != nil {
			return count, "", err
		}
	}
}

// ParseAuditCutoff reads an archive's cut-off, a date (YYYY-MM-DD): the
// events before that day began, in UTC.
func ParseAuditCutoff(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, FieldError("before", fmt.Sprintf("Give the date as YYYY-MM-DD, such as 2025-01-31; %q is not one.", Clip(s, 40)))
	}
	return t, nil
}
