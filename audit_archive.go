package instancehub

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// archiveFile is where a's file was written; "" for no archive.
func archiveFile(a *AuditArchive) string {
	if a == nil {
		return ""
	}
	return a.File
}

// LatestAuditCutoff is the latest cut-off an archive may have today, for
// the form that asks for one.
func (s *Service) LatestAuditCutoff() time.Time { return latestAuditCutoff(s.now()) }

// latestAuditCutoff is the latest cut-off an archive may have at now: the
// last AuditKeptDays days stay.
func latestAuditCutoff(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -AuditKeptDays)
}

// auditArchiveName is the file name of an archive made in the portal.
func auditArchiveName(before time.Time) string {
	return "audit-before-" + before.Format(time.DateOnly) + ".jsonl"
}

// PlanAuditArchive says what archiving the events before the date before
// would move out, for the page that asks first, as ArchiveAudit would
// check it. Owners only (audit/archive).
func (s *Service) PlanAuditArchive(ctx context.Context, before string) (*AuditArchive, error) {
	if _, err := authorize(ctx, PermArchiveAudit, "archive the audit log"); err != nil {
		s.recordDenial(ctx, "audit.archive", Clip(before, 40), err)
		return nil, err
	}
	cut, span, err := s.auditCutoff(ctx, before)
	if err != nil {
		return nil, err
	}
	return &AuditArchive{Before: cut, First: span.First, Last: span.Last, LastID: span.LastID, Count: span.Count,
		File: auditArchiveName(cut)}, nil
}

// auditCutoff reads the cut-off and checks that it leaves the last
// AuditKeptDays days and that there are events before it.
func (s *Service) auditCutoff(ctx context.Context, before string) (time.Time, AuditSpan, error) {
	cut, err := ParseAuditCutoff(before)
	if err != nil {
		return cut, AuditSpan{}, err
	}
	if latest := latestAuditCutoff(s.now()); cut.After(latest) {
		return cut, AuditSpan{}, FieldError("before", fmt.Sprintf("The last %d days stay in the log: choose a date on or before %s.",
			AuditKeptDays, latest.Format(time.DateOnly)))
	}
	span, err := s.Audit.AuditArchivable(ctx, cut)
	if err != nil {
		return cut, span, err
	}
	if span.Count == 0 {
		return cut, span, FieldError("before", fmt.Sprintf("The log holds no event before %s: there is nothing to archive.", cut.Format(time.DateOnly)))
	}
	if limit := s.archiveLimit(); span.Count > limit {
		return cut, span, s.archiveTooLarge(ctx, cut, span.Count, limit)
	}
	return cut, span, nil
}

func (s *Service) archiveLimit() int {
	if s.ArchiveLimit > 0 {
		return s.ArchiveLimit
	}
	return MaxAuditArchive
}

// archiveTooLarge refuses an archive of count events, more than limit,
// naming the latest day whose archive would fit: the day of the oldest
// event beyond the limit.
func (s *Service) archiveTooLarge(ctx context.Context, cut time.Time, count, limit int) error {
	beyond, err := s.Audit.NthOldestAudit(ctx, limit)
	if err != nil {
		return err
	}
	day := beyond.UTC().Truncate(24 * time.Hour)
	if span, err := s.Audit.AuditArchivable(ctx, day); err != nil {
		return err
	} else if span.Count == 0 {
		return FieldError("before", fmt.Sprintf("The log holds %d events before %s, more than the %d one archive moves, and more than that many fall on %s alone: they stay in the log.",
			count, cut.Format(time.DateOnly), limit, day.Format(time.DateOnly)))
	}
	return FieldError("before", fmt.Sprintf("The log holds %d events before %s; one archive moves at most %d, so that removing them keeps the database busy only briefly. Choose a day on or before %s, then archive the rest.",
		count, cut.Format(time.DateOnly), limit, day.Format(time.DateOnly)))
}

// ArchiveAudit moves the events before the date before out of the log
// into a file of the portal's archive folder (ArchiveDir), named after the
// date, which Settings offers to download. Owners only (audit/archive). An
// EINVALID field error for a bad date, one within the last AuditKeptDays
// days, or one with no event before it; ECONFLICT when the file exists.
func (s *Service) ArchiveAudit(ctx context.Context, before string) (a *AuditArchive, err error) {
	defer func() {
		if err != nil {
			s.record(ctx, "audit.archive", "before "+Clip(strings.TrimSpace(before), 40), err)
		}
	}()
	if _, err := authorize(ctx, PermArchiveAudit, "archive the audit log"); err != nil {
		return nil, err
	}
	folder, err := s.archiveFolder()
	if err != nil {
		return nil, err
	}
	return s.archiveAudit(ctx, before, func(cut time.Time) string { return filepath.Join(folder, auditArchiveName(cut)) }, "")
}

// archiveFolder makes the portal's archive folder if needed and returns
// its absolute path.
func (s *Service) archiveFolder() (string, error) {
	if s.ArchiveDir == "" {
		return "", Errorf(EUNAVAILABLE, "This portal has no folder to write archives to.")
	}
	folder, err := filepath.Abs(s.ArchiveDir)
	if err == nil {
		err = os.MkdirAll(folder, 0o750)
	}
	if err != nil {
		return "", fmt.Errorf("make the archive folder: %w", err)
	}
	return folder, nil
}

// ArchiveAuditFromCLI is ArchiveAudit from the server's command line, which
// is trusted: the file is out, wherever it is.
func (s *Service) ArchiveAuditFromCLI(ctx context.Context, before, out string) (a *AuditArchive, err error) {
	defer func() {
		if err != nil {
			s.record(ctx, "audit.archive", Clip(out, MaxAuditTargetLength-len(viaCLI))+viaCLI, err)
		}
	}()
	if strings.TrimSpace(out) == "" {
		return nil, FieldError("out", "Name the file to write the archive to.")
	}
	path, err := filepath.Abs(out)
	if err != nil {
		return nil, FieldError("out", fmt.Sprintf("%s: %v", out, err))
	}
	return s.archiveAudit(ctx, before, func(time.Time) string { return path }, viaCLI)
}

// viaCLI ends the audit target of what the command line did.
const viaCLI = " (command line)"

// archiveAudit writes the events before the date before to a new file,
// at pathFor the cut-off, checks it, and has the store remove them, as
// AuditArchive says. The file is removed again if anything fails, so that
// it exists only when its events left the log. via ends the audit event's
// target.
func (s *Service) archiveAudit(ctx context.Context, before string, pathFor func(time.Time) string, via string) (*AuditArchive, error) {
	cut, span, err := s.auditCutoff(ctx, before)
	if err != nil {
		return nil, err
	}
	path := pathFor(cut)
	dir, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return nil, FieldError("out", fmt.Sprintf("The folder of %s cannot be opened: %v.", path, errors.Unwrap(err)))
	}
	defer dir.Close()
	name := filepath.Base(path)
	f, err := dir.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if errors.Is(err, fs.ErrExist) {
		return nil, Errorf(ECONFLICT, "%s exists already: an archive never overwrites a file. Move it away, or choose another name.", path)
	} else if err != nil {
		return nil, fmt.Errorf("create the archive %s: %w", path, err)
	}
	a, err := s.writeAuditArchive(ctx, f, dir, name, cut, span.LastID)
	if err == nil {
		a.File = path
		err = s.removeArchived(ctx, a, via)
	}
	if err != nil {
		if rerr := dir.Remove(name); rerr != nil {
			s.logger().ErrorContext(ctx, "remove an archive that failed", "file", path, "err", rerr)
		}
		return nil, err
	}
	return a, nil
}

// writeAuditArchive writes the events before cut, up to lastID, to f,
// closes it, reads it back through dir and compares the count and digest
// read with those written.
func (s *Service) writeAuditArchive(ctx context.Context, f *os.File, dir *os.Root, name string, cut time.Time, lastID int64) (*AuditArchive, error) {
	buf := bufio.NewWriterSize(f, 64<<10)
	w := NewAuditArchiveWriter(buf)
	err := s.Audit.WalkAuditArchivable(ctx, cut, lastID, w.Write)
	if err == nil {
		err = buf.Flush()
	}
	if err == nil {
		err = f.Sync() // on disk before anything leaves the log
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write the archive %s: %w", name, err)
	}
	r, err := dir.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read the archive %s back: %w", name, err)
	}
	defer r.Close()
	count, digest, err := ReadAuditArchive(r)
	if err != nil || count != w.Count() || digest != w.Digest() {
		return nil, Errorf(EINTERNAL, "The archive %s read back is not what was written (%d events, SHA-256 %s; read %d, %s, %v): nothing was removed.",
			name, w.Count(), w.Digest(), count, digest, err)
	}
	return &AuditArchive{At: s.now(), Before: cut, First: w.first, Last: w.last, LastID: w.lastID, Count: count, Digest: digest}, nil
}

// removeArchived has the store remove the events of a checked archive,
// recording it and its audit event.
func (s *Service) removeArchived(ctx context.Context, a *AuditArchive, via string) error {
	if user := UserFromContext(ctx); user != nil {
		a.UserID, a.UserName, a.UserEmail = user.ID, user.Name, user.Email
	}
	e := s.auditEvent(ctx, "audit.archive", Clip(a.File, MaxAuditTargetLength-len(via))+via, nil)
	e.Reason = Clip(fmt.Sprintf("%d events from %s to %s (before %s) written to the file, read back and checked, then removed from the log; SHA-256 %s.",
		a.Count, a.First.UTC().Format(time.DateTime), a.Last.UTC().Format(time.DateTime), a.Before.Format(time.DateOnly), a.Digest), MaxAuditReasonLength)
	return s.Audit.ArchiveAudit(context.WithoutCancel(ctx), a, e)
}

// AuditArchives lists the archives made of the log, newest first, for
// those who may read it.
func (s *Service) AuditArchives(ctx context.Context) ([]*AuditArchive, error) {
	if _, err := authorize(ctx, PermReadAudit, "read the audit log"); err != nil {
		return nil, err
	}
	return s.Audit.AuditArchives(ctx)
}

// OpenAuditArchive opens the file of an archive made in the portal, for
// those who may read the log, once its SHA-256 is checked again: a file
// changed since it was written is refused (ECONFLICT). Reading it is
// audited, as reading the log is, and so are its refusals; asking for an
// archive that is not here is not. ENOTFOUND for an unknown archive, or
// one whose file is not in this portal's archive folder (the command line
// wrote it elsewhere, or another replica in its own).
func (s *Service) OpenAuditArchive(ctx context.Context, id int64) (a *AuditArchive, r io.ReadCloser, err error) {
	defer func() {
		if ErrorCode(err) != ENOTFOUND {
			s.record(ctx, "audit.download", Clip(fmt.Sprintf("archive %d: %s", id, archiveFile(a)), MaxAuditTargetLength), err)
		}
	}()
	if _, err := authorize(ctx, PermReadAudit, "read the audit log"); err != nil {
		return nil, nil, err
	}
	a, err = s.Audit.FindAuditArchive(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	folder, err := s.archiveFolder()
	if err != nil {
		return a, nil, err
	}
	if filepath.Dir(a.File) != folder {
		return a, nil, Errorf(ENOTFOUND, "The archive was written to %s, outside this portal's archive folder; take it from there.", a.File)
	}
	dir, err := os.OpenRoot(folder)
	if err != nil {
		return a, nil, fmt.Errorf("open the archive folder: %w", err)
	}
	defer dir.Close()
	name := filepath.Base(a.File)
	f, err := dir.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return a, nil, Errorf(ENOTFOUND, "The file %s is not in this portal's archive folder: it was moved, or another replica wrote it to its own.", a.File)
	} else if err != nil {
		return a, nil, fmt.Errorf("open the archive %s: %w", a.File, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		f.Close()
		return a, nil, fmt.Errorf("read the archive %s: %w", a.File, err)
	}
	if digest := hex.EncodeToString(h.Sum(nil)); digest != a.Digest {
		f.Close()
		return a, nil, Errorf(ECONFLICT, "The file %s no longer has the SHA-256 it was written with (%s, now %s): it was changed or damaged since.",
			a.File, a.Digest, digest)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return a, nil, err
	}
	return a, f, nil
}
