package privacy

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/store"
)

// "Download my data" is built in the background: StartExport records the
// request (a data download record, queued), a worker (RunExports) builds
// the ZIP one record at a time into a temporary file, stores it in object
// storage as exports/<user>/<id>.zip and tells the person by email and in
// their notifications; the person downloads it from their account for
// ExportLifetime, after which the hourly job deletes the file, then the
// record. A build that stops (a crash, a shutdown) is run again from the
// start: the queue item stays until the download is built.
const (
	ExportLifetime = 7 * 24 * time.Hour
	exportLease    = 10 * time.Minute // a build renews it as it goes
	exportMaxRuns  = 5                // builds that fail (not stopped) before giving up
)

// ExportKey is where a data download is stored.
func ExportKey(userID, id string) string { return "exports/" + userID + "/" + id + ".zip" }

const readme = `This file holds every record Family Advocacy Learning keeps about you,
as of %s.

data/<collection>.json  one JSON array per kind of record (extended JSON:
                        dates are {"$date": ...}); collections holding
                        nothing about you are left out
files/                  your certificate PDFs, CPD evidence and DBS scans

Left out on purpose: your password hash, two-factor secrets, the
identifiers of your sign-in sessions and the bodies of emails that carried
a one-time link (password resets, invitations), which say nothing about you
but would weaken your account if this file were lost. Encrypted fields (DBS
certificate numbers, notes) are shown as stored, encrypted. Actions you took
on other people's records are listed as when and what kind of action only:
their details are theirs.

Our privacy notice says what we keep, why and for how long:
%s/pages/privacy
`

// Export writes a ZIP of everything held about the user to w, one record
// and one file at a time (nothing is held whole in memory). The background
// builder uses it; so does the scale bench, to time it.
func (s *Service) Export(ctx context.Context, u *auth.User, baseURL string, w io.Writer) error {
	pd, err := s.DB.PersonData(ctx, u.ID, s.Auth.AccountThrottleKey)
	if err != nil {
		return err
	}
	return s.writeExport(ctx, pd, baseURL, w, nil)
}

// exportSize is how many records and files a download of pd holds.
func exportSize(pd *store.PersonData) int { return pd.Records() + len(pd.Files) }

// writeExport writes the ZIP, calling progress (if set) after each record
// and file with how many are written; an error from it stops the writing.
func (s *Service) writeExport(ctx context.Context, pd *store.PersonData, baseURL string, w io.Writer, progress func(done int) error) error {
	zw := zip.NewWriter(w)
	now := s.Now()
	hdr := func(name string) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
	}
	done := 0
	step := func() error {
		done++
		if err := ctx.Err(); err != nil {
			return err
		}
		if progress != nil {
			return progress(done)
		}
		return nil
	}
	f, err := hdr("README.txt")
	if err != nil {
		return err
	}
	fmt.Fprintf(f, readme, now.In(compliance.London).Format("2 January 2006 15:04"), baseURL)
	for _, h := range store.Holdings {
		ids := pd.Docs[h.Collection]
		if h.Found == "" || len(ids) == 0 {
			continue
		}
		f, err := hdr("data/" + h.Collection + ".json")
		if err != nil {
			return err
		}
		sep := "[\n"
		for _, id := range ids {
			doc, err := s.DB.ExportDoc(ctx, h.Collection, id, pd.UserID)
			if err != nil {
				return err
			}
			if doc != nil {
				if _, err := io.WriteString(f, sep); err != nil {
					return err
				}
				sep = ",\n"
				if _, err := f.Write(doc); err != nil {
					return err
				}
			}
			if err := step(); err != nil {
				return err
			}
		}
		end := "\n]\n"
		if sep == "[\n" { // every one went meanwhile
			end = "[]\n"
		}
		if _, err := io.WriteString(f, end); err != nil {
			return err
		}
	}
	// Course evaluations are kept under a pseudonym, not the person's ID:
	// found from their enrolments, with their free text decrypted.
	if s.Impact != nil {
		answers, err := s.Impact.PersonAnswers(ctx, pd.Enrolments)
		if err != nil {
			return err
		}
		if len(answers) > 0 {
			f, err := hdr("data/course_evaluations.json")
			if err != nil {
				return err
			}
			enc := json.NewEncoder(f)
			enc.SetIndent("", "  ")
			if err := enc.Encode(answers); err != nil {
				return err
			}
		}
	}
	for _, fl := range pd.Files {
		r, _, err := s.Blobs.Open(ctx, fl.Key, !fl.Sealed) // decrypted; certificates are plain
		switch {
		case errs.Is(err, errs.ENOTFOUND):
			// e.g. a DBS scan deleted six months after the decision
		case err != nil:
			return err
		default:
			f, err := zw.CreateHeader(&zip.FileHeader{Name: fl.Name, Method: zip.Store, Modified: now})
			if err == nil {
				_, err = io.Copy(f, r)
			}
			r.Close()
			if err != nil {
				return err
			}
		}
		if err := step(); err != nil {
			return err
		}
	}
	return zw.Close()
}

// StartExport asks for a data download of the user's data, or returns the
// one being built already. The worker builds it.
func (s *Service) StartExport(ctx context.Context, u *auth.User) (*store.DataExport, error) {
	if u.Erasure != nil || u.ErasedAt != nil {
		return nil, errs.E(errs.ECONFLICT, "This account's data is being erased.")
	}
	have, err := s.DB.UserDataExports(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, e := range have {
		if e.Status == store.ExportBuilding {
			return &e, nil
		}
	}
	now := s.Now().UTC()
	e := &store.DataExport{ID: newID(), UserID: u.ID, Status: store.ExportBuilding, Created: now, Expires: now.Add(ExportLifetime)}
	if err := s.DB.InsertDataExport(ctx, e); err != nil {
		return nil, err
	}
	select {
	case s.wake() <- struct{}{}:
	default:
	}
	return e, nil
}

// wake returns the channel that tells this instance's worker a download
// was asked for.
func (s *Service) wake() chan struct{} {
	s.wakeOnce.Do(func() { s.wakeUp = make(chan struct{}, 1) })
	return s.wakeUp
}

// Wake is readable when a download was asked for on this instance (the
// worker then runs at once rather than at its next tick).
func (s *Service) Wake() <-chan struct{} { return s.wake() }

// Exports returns a user's data downloads, newest first, leaving out those
// past their expiry (the hourly job deletes them).
func (s *Service) Exports(ctx context.Context, userID string) ([]store.DataExport, error) {
	all, err := s.DB.UserDataExports(ctx, userID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	out := all[:0]
	for _, e := range all {
		if e.Expires.After(now) {
			out = append(out, e)
		}
	}
	return out, nil
}

// OpenExport opens a built download for its owner (anyone else, and a
// download not ready or past its expiry, is ENOTFOUND) and audits the
// download.
func (s *Service) OpenExport(ctx context.Context, u *auth.User, id string) (*store.DataExport, io.ReadCloser, int64, error) {
	gone := errs.E(errs.ENOTFOUND, "We could not find that data download. It may have expired: ask for a new one.")
	e, err := s.DB.DataExport(ctx, id)
	if errs.Is(err, errs.ENOTFOUND) || err == nil && (e.UserID != u.ID || e.Status != store.ExportReady || !e.Expires.After(s.Now())) {
		return nil, nil, 0, gone
	}
	if err != nil {
		return nil, nil, 0, err
	}
	r, size, err := s.Blobs.Open(ctx, e.Key, true) // one built before downloads were encrypted is plain
	if errs.Is(err, errs.ENOTFOUND) {
		return nil, nil, 0, gone
	}
	if err != nil {
		return nil, nil, 0, err
	}
	if err := s.Audit.Record(ctx, audit.Event{ActorID: u.ID, Actor: u.Name, OrgID: u.OrgID, Action: "user.export", Target: "user:" + u.ID,
		Note: "data download " + e.ID}); err != nil {
		r.Close()
		return nil, nil, 0, err
	}
	return e, r, size, nil
}

// RunExports builds the data downloads waiting in the queue, one at a
// time, and returns how many it finished. Several instances may run it:
// each build first takes a lease on its download.
func (s *Service) RunExports(ctx context.Context) (int, error) {
	items, err := s.DB.Work(ctx, store.QueueExports, 100)
	if err != nil {
		return 0, err
	}
	n := 0
	now := s.Now()
	for _, it := range items {
		if it.Due.After(now) {
			continue
		}
		built, err := s.runExport(ctx, it)
		if err != nil {
			return n, err
		}
		if built {
			n++
		}
	}
	return n, nil
}

// runExport takes one queued download as far as it can go.
func (s *Service) runExport(ctx context.Context, it store.WorkItem) (bool, error) {
	id := it.Key
	now := s.Now()
	e, err := s.DB.DataExport(ctx, id)
	if errs.Is(err, errs.ENOTFOUND) {
		// Deleted, or its record not written yet (give it a while).
		if now.Sub(it.Created) > time.Hour {
			return false, s.DB.DoneWork(ctx, store.QueueExports, id)
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	switch e.Status {
	case store.ExportReady:
		// Built before a crash: make sure the person was told.
		if err := s.tellReady(ctx, e); err != nil {
			return false, err
		}
		return true, s.DB.DoneWork(ctx, store.QueueExports, id)
	case store.ExportFailed:
		return false, s.DB.DoneWork(ctx, store.QueueExports, id)
	}
	claimed, err := s.DB.ClaimDataExport(ctx, id, s.Owner, now, now.Add(exportLease))
	if err != nil || claimed == nil {
		return false, err // another instance is building it
	}
	if err := s.build(ctx, claimed); err != nil {
		_ = s.DB.ReleaseDataExport(context.WithoutCancel(ctx), id, s.Owner)
		if ctx.Err() != nil {
			return false, ctx.Err() // stopped: the next run starts it again
		}
		if s.Log != nil {
			s.Log.Warn("building a data download failed", "export", id, "run", claimed.Runs, "err", err)
		}
		if claimed.Runs >= exportMaxRuns {
			if err := s.DB.FailDataExport(ctx, id, err.Error(), s.Now()); err != nil {
				return false, err
			}
			return false, s.DB.DoneWork(ctx, store.QueueExports, id)
		}
		return false, s.DB.RetryWork(ctx, store.QueueExports, id, s.Now().Add(time.Duration(claimed.Runs)*time.Minute), err.Error())
	}
	e, err = s.DB.DataExport(ctx, id)
	if errs.Is(err, errs.ENOTFOUND) {
		return false, s.DB.DoneWork(ctx, store.QueueExports, id) // erased meanwhile
	}
	if err != nil {
		return false, err
	}
	if err := s.tellReady(ctx, e); err != nil {
		return false, err
	}
	return true, s.DB.DoneWork(ctx, store.QueueExports, id)
}

// build writes a download's ZIP to a temporary file, a record at a time,
// stores it and records it built.
func (s *Service) build(ctx context.Context, e *store.DataExport) error {
	u, err := s.Auth.User(ctx, e.UserID)
	if err == nil && (u.Erasure != nil || u.ErasedAt != nil) {
		err = errs.E(errs.ENOTFOUND, "account erased")
	}
	if errs.Is(err, errs.ENOTFOUND) {
		// Nothing to build for an erased account: the download goes.
		if err := s.Blobs.Delete(ctx, ExportKey(e.UserID, e.ID)); err != nil {
			return err
		}
		return s.DB.DeleteDataExport(ctx, e)
	}
	if err != nil {
		return err
	}
	pd, err := s.DB.PersonData(ctx, e.UserID, s.Auth.AccountThrottleKey)
	if err != nil {
		return err
	}
	total := exportSize(pd)
	if err := s.DB.DataExportProgress(ctx, e.ID, 0, total, s.Now().Add(exportLease)); err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "lms-export-*.zip")
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	bw := bufio.NewWriterSize(tmp, 256<<10)
	saved := time.Now()
	progress := func(done int) error {
		if s.AfterExportRecord != nil {
			s.AfterExportRecord(e.ID, done)
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if time.Since(saved) < 500*time.Millisecond {
			return nil
		}
		saved = time.Now()
		return s.DB.DataExportProgress(ctx, e.ID, done, total, s.Now().Add(exportLease))
	}
	if err := s.writeExport(ctx, pd, s.BaseURL, bw, progress); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	key := ExportKey(e.UserID, e.ID)
	if err := s.Blobs.Put(ctx, key, tmp, size, "application/zip"); err != nil {
		return err
	}
	if err := s.DB.DataExportProgress(ctx, e.ID, total, total, s.Now().Add(exportLease)); err != nil {
		if errs.Is(err, errs.ENOTFOUND) {
			return s.Blobs.Delete(context.WithoutCancel(ctx), key) // erased meanwhile
		}
		return err
	}
	finished := s.Now().UTC()
	err = s.DB.FinishDataExport(ctx, e.ID, key, size, finished, finished.Add(ExportLifetime))
	if errs.Is(err, errs.ENOTFOUND) {
		return s.Blobs.Delete(context.WithoutCancel(ctx), key) // erased meanwhile
	}
	return err
}

// tellReady emails the person that their download is ready and adds it to
// their notifications, once each whatever the retries (both have the
// download's ID).
func (s *Service) tellReady(ctx context.Context, e *store.DataExport) error {
	u, err := s.Auth.User(ctx, e.UserID)
	if errs.Is(err, errs.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	if u.Erasure != nil || u.ErasedAt != nil {
		return nil
	}
	until := e.Expires.In(compliance.London).Format("2 January 2006")
	link := s.BaseURL + "/account/export"
	text, html := notify.Compose(notify.Email{
		Greeting: "Hello " + u.Name + ",",
		Paragraphs: []string{
			"The download of your data you asked for is ready: a ZIP file of every record Family Advocacy Learning holds about you, with your certificates and evidence files.",
			"Sign in and download it from your account by " + until + ". After that it is deleted, and you can ask for a new one at any time.",
			"If you did not ask for this, tell us: someone may have signed in as you.",
		},
		Action: &notify.Action{Label: "Download your data", URL: link},
	})
	if _, err := s.Mail.Send(ctx, notify.Message{ID: "export-" + e.ID, To: u.Email, UserID: u.ID, Kind: "data_export",
		Subject: "Your data download is ready", Text: text, HTML: html}); err != nil {
		return err
	}
	return s.Mail.Notify(ctx, u.ID, notify.Notification{ID: "export-" + e.ID, Subject: "Your data download is ready",
		Text: "Download it from your account by " + until + ".", Link: "/account/export"})
}

// ExpireExports deletes the data downloads past their expiry: the file,
// then the record. The app runs it hourly; it returns how many it deleted.
func (s *Service) ExpireExports(ctx context.Context) (int, error) {
	return s.DB.ExpireDataExports(ctx, s.Now(), func(ctx context.Context, e *store.DataExport) error {
		return s.Blobs.Delete(ctx, ExportKey(e.UserID, e.ID))
	})
}

// Export is one data download (its record is kept by the store).
type Export = store.DataExport

// Data download states.
const (
	ExportBuilding = store.ExportBuilding
	ExportReady    = store.ExportReady
	ExportFailed   = store.ExportFailed
)
