package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/notify"
)

// Loader fills a database in bulk, for the scale harness: it writes the
// same documents and the same list rows as the store's methods (it calls
// the same index functions), but gathers them in memory and writes them
// in large batches, which is some fifty times faster than one write each.
// It is for filling a database nobody is using.
type Loader struct {
	db   *DB // a copy of the database whose lists write to ls
	ls   *loaderState
	base *DB
}

type loaderState struct {
	mu    sync.Mutex
	docs  map[string][]any                // collection → documents to insert
	rows  map[string]map[string]storedRow // list → row key → row
	specs map[string]listSpec             // list → its shape
}

// NewLoader returns a loader writing to db.
func (db *DB) NewLoader() *Loader {
	ls := &loaderState{docs: map[string][]any{}, rows: map[string]map[string]storedRow{}, specs: map[string]listSpec{}}
	cp := *db
	cp.ldr = ls
	return &Loader{db: &cp, ls: ls, base: db}
}

func (ls *loaderState) addRow(l list, row storedRow) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	m := ls.rows[l.name]
	if m == nil {
		m = map[string]storedRow{}
		ls.rows[l.name] = m
		ls.specs[l.name] = l.spec
	}
	m[row.Key] = row
}

func (ls *loaderState) insert(coll string, doc any) {
	ls.mu.Lock()
	ls.docs[coll] = append(ls.docs[coll], doc)
	ls.mu.Unlock()
}

// Pending returns how many documents wait to be written.
func (l *Loader) Pending() int {
	l.ls.mu.Lock()
	defer l.ls.mu.Unlock()
	n := 0
	for _, d := range l.ls.docs {
		n += len(d)
	}
	return n
}

// User adds an account and its email claim.
func (l *Loader) User(ctx context.Context, u *auth.User) error {
	if err := l.db.indexUser(ctx, u); err != nil {
		return err
	}
	l.ls.insert(colUserEmails, emailClaim{Email: u.Email, UserID: u.ID, Claimed: u.Created})
	l.ls.insert(colUsers, u)
	return nil
}

// Organisation adds an organisation.
func (l *Loader) Organisation(o *auth.Organisation) { l.ls.insert(colOrgs, o) }

// Session adds a session.
func (l *Loader) Session(ctx context.Context, s *auth.Session) error {
	if err := l.db.userSessions(s.UserID).Add(ctx, s.ID, s.ID, bson.D{}); err != nil {
		return err
	}
	if err := l.db.expireAt(ctx, colSessions, s.ID, s.UserID, s.Expires); err != nil {
		return err
	}
	l.ls.insert(colSessions, s)
	return nil
}

// Enrolment adds an enrolment (with its completion's rows, if it has one).
func (l *Loader) Enrolment(ctx context.Context, e *learning.Enrolment) error {
	if err := l.db.indexEnrolment(ctx, e); err != nil {
		return err
	}
	if e.Completion != nil {
		if err := l.db.indexCompletion(ctx, e, e.Completion); err != nil {
			return err
		}
	}
	l.ls.insert(colEnrolments, e)
	return nil
}

// Attempt adds a drawn paper.
func (l *Loader) Attempt(a *learning.Attempt) { l.ls.insert(colAttempts, a) }

// Submission adds a submitted attempt.
func (l *Loader) Submission(s *learning.Submission) { l.ls.insert(colSubmissions, s) }

// Certificate adds an issued certificate with its claim, first revision
// and file hash.
func (l *Loader) Certificate(ctx context.Context, c *certificates.Certificate, claim *certificates.Claim, rev *certificates.Revision, h *certificates.Hash) error {
	if err := l.db.indexCertificate(ctx, c); err != nil {
		return err
	}
	l.ls.insert(colCertClaims, claim)
	l.ls.insert(colCertRevs, rev)
	l.ls.insert(colCertHashes, h)
	l.ls.insert(colCertificates, c)
	return nil
}

// Message adds an outbox message.
func (l *Loader) Message(ctx context.Context, m *notify.Message) error {
	if err := l.db.indexMessage(ctx, m); err != nil {
		return err
	}
	l.ls.insert(colOutbox, m)
	return nil
}

// Event adds an audit event.
func (l *Loader) Event(ctx context.Context, e *audit.Event) error {
	if err := l.db.indexEvent(ctx, e); err != nil {
		return err
	}
	l.ls.insert(colAudit, e)
	return nil
}

// Inbox adds a user's notifications.
func (l *Loader) Inbox(in *notify.Inbox) {
	l.ls.insert(colNotifications, versioned[notify.Inbox]{Doc: *in, Version: 1})
}

// Advocate adds an advocate's compliance record.
func (l *Loader) Advocate(ctx context.Context, a *compliance.Advocate) error {
	if err := l.db.advocateList().Add(ctx, a.ID, a.ID, struct{}{}); err != nil {
		return err
	}
	if s := endedSort(a); s != "" {
		if err := l.db.endedList().Add(ctx, a.ID, s, struct{}{}); err != nil {
			return err
		}
	}
	l.ls.insert(colAdvocates, advocateDoc{Doc: *a, Version: 1})
	return nil
}

// FlushDocs writes the documents gathered so far (not the list rows, which
// are written once, by Flush, so that each bucket is written whole).
func (l *Loader) FlushDocs(ctx context.Context) error {
	l.ls.mu.Lock()
	docs := l.ls.docs
	l.ls.docs = map[string][]any{}
	l.ls.mu.Unlock()
	for _, coll := range slices.Sorted(maps.Keys(docs)) {
		all := docs[coll]
		for i := 0; i < len(all); i += 1000 {
			batch := all[i:min(i+1000, len(all))]
			if _, err := l.base.coll(coll).InsertMany(ctx, batch, options.InsertMany().SetOrdered(false)); err != nil && !mongo.IsDuplicateKeyError(err) {
				return fmt.Errorf("store: load %s: %w", coll, err)
			}
		}
	}
	return nil
}

// Flush writes everything gathered: documents, then each list whole (a
// list that exists already is read, merged and written again), in buckets
// three quarters full.
func (l *Loader) Flush(ctx context.Context) error {
	if err := l.FlushDocs(ctx); err != nil {
		return err
	}
	l.ls.mu.Lock()
	all, specs := l.ls.rows, l.ls.specs
	l.ls.rows, l.ls.specs = map[string]map[string]storedRow{}, map[string]listSpec{}
	l.ls.mu.Unlock()
	var batch []any
	write := func(force bool) error {
		if len(batch) == 0 || !force && len(batch) < 500 {
			return nil
		}
		if _, err := l.base.coll(colLists).InsertMany(ctx, batch, options.InsertMany().SetOrdered(false)); err != nil {
			return fmt.Errorf("store: load lists: %w", err)
		}
		batch = batch[:0]
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(all)) {
		rows, lst := all[name], l.base.list(name, specs[name])
		if exists, err := lst.exists(ctx); err != nil {
			return err
		} else if exists {
			err := lst.Scan(ctx, "", func(r Row) (bool, error) {
				if _, ok := rows[r.Key]; !ok {
					rows[r.Key] = storedRow{Key: r.Key, Sort: r.Sort, Data: r.Data}
				}
				return true, nil
			})
			if err == nil {
				err = lst.Drop(ctx)
			}
			if err != nil {
				return fmt.Errorf("store: load list %s: %w", name, err)
			}
		}
		docs, err := lst.layOut(slices.SortedFunc(maps.Values(rows), rowLess))
		if err != nil {
			return err
		}
		for _, d := range docs {
			batch = append(batch, versioned[listDoc]{Doc: d, Version: 1})
			if err := write(false); err != nil {
				return err
			}
		}
	}
	return write(true)
}

// layOut returns the documents of a list holding rows (sorted): buckets
// filled to three quarters of splitBytes, the directories of prefixes with
// more than one, and the list's directory.
func (l list) layOut(rows []storedRow) ([]listDoc, error) {
	var docs []listDoc
	var top dirBlob
	bucket := func(low string, rs []storedRow) error {
		blob, err := bson.Marshal(bucketBlob{Rows: rs})
		docs = append(docs, listDoc{ID: l.bucketID(low), N: len(rs), Blob: blob})
		return err
	}
	for len(rows) > 0 {
		prefix := l.prefixOf(rows[0].Sort)
		end := 1
		for end < len(rows) && l.prefixOf(rows[end].Sort) == prefix {
			end++
		}
		group := rows[:end]
		rows = rows[end:]
		var dir dirBlob
		low, start, size := prefix, 0, 0
		for i, r := range group {
			if size > splitBytes*3/4 && r.Sort != group[i-1].Sort {
				if err := bucket(low, group[start:i]); err != nil {
					return nil, err
				}
				dir.Entries = append(dir.Entries, dirEntry{Key: low, N: l.counted(i - start)})
				low, start, size = separator(group[i-1].Sort, r.Sort), i, 0
			}
			size += len(r.Key) + len(r.Sort) + len(r.Data) + 24
		}
		if err := bucket(low, group[start:]); err != nil {
			return nil, err
		}
		dir.Entries = append(dir.Entries, dirEntry{Key: low, N: l.counted(len(group) - start)})
		if len(dir.Entries) > 1 {
			var d listDoc
			if err := d.setDir(l.prefixDirID(prefix), dir); err != nil {
				return nil, err
			}
			docs = append(docs, d)
		}
		top.Entries = append(top.Entries, dirEntry{Key: prefix, N: l.counted(len(group))})
	}
	if l.whole() {
		return docs, nil
	}
	var d listDoc
	if err := d.setDir(l.name, top); err != nil {
		return nil, err
	}
	return append(docs, d), nil
}

// counted returns n for a counted list and 0 for an uncounted one.
func (l list) counted(n int) int {
	if l.spec.uncounted {
		return 0
	}
	return n
}
