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
	rows  map[string]map[string]storedRow // bucket document → row key → row
	names map[string]string               // bucket document → list name
	buckt map[string]string               // bucket document → bucket
}

// NewLoader returns a loader writing to db.
func (db *DB) NewLoader() *Loader {
	ls := &loaderState{docs: map[string][]any{}, rows: map[string]map[string]storedRow{}, names: map[string]string{}, buckt: map[string]string{}}
	cp := *db
	cp.ldr = ls
	return &Loader{db: &cp, ls: ls, base: db}
}

func (ls *loaderState) addRow(l list, row storedRow) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	bucket := l.bucketOf(row.Sort, row.Key)
	id := l.bucketID(bucket)
	m := ls.rows[id]
	if m == nil {
		m = map[string]storedRow{}
		ls.rows[id] = m
		ls.names[id] = l.name
		ls.buckt[id] = bucket
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

// Flush writes everything gathered: documents, then the list buckets
// (merged with any bucket that exists already) and their directories.
func (l *Loader) Flush(ctx context.Context) error {
	if err := l.FlushDocs(ctx); err != nil {
		return err
	}
	l.ls.mu.Lock()
	rows, names, buckets := l.ls.rows, l.ls.names, l.ls.buckt
	l.ls.rows, l.ls.names, l.ls.buckt = map[string]map[string]storedRow{}, map[string]string{}, map[string]string{}
	l.ls.mu.Unlock()
	finalN := map[string]int{}
	var batch []any
	var ids []string
	var merge []map[string]storedRow
	write := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := l.base.coll(colLists).InsertMany(ctx, batch, options.InsertMany().SetOrdered(false))
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("store: load lists: %w", err)
		}
		if err != nil {
			// Some buckets existed: merge them (again, for the others).
			for i, id := range ids {
				n, err := l.base.mergeRows(ctx, id, merge[i])
				if err != nil {
					return err
				}
				finalN[id] = n
			}
		}
		batch, ids, merge = batch[:0], ids[:0], merge[:0]
		return nil
	}
	for _, id := range slices.Sorted(maps.Keys(rows)) {
		r := rows[id]
		sorted := slices.SortedFunc(maps.Values(r), rowLess)
		blob, err := bson.Marshal(bucketBlob{Rows: sorted})
		if err != nil {
			return err
		}
		finalN[id] = len(r)
		batch = append(batch, versioned[listDoc]{Doc: listDoc{ID: id, N: len(r), Blob: blob}, Version: 1})
		ids = append(ids, id)
		merge = append(merge, r)
		if len(batch) == 500 {
			if err := write(); err != nil {
				return err
			}
		}
	}
	if err := write(); err != nil {
		return err
	}
	dirs := map[string]map[string]int{}
	for id, n := range finalN {
		if dirs[names[id]] == nil {
			dirs[names[id]] = map[string]int{}
		}
		dirs[names[id]][buckets[id]] = n
	}
	for _, name := range slices.Sorted(maps.Keys(dirs)) {
		counts := dirs[name]
		_, err := updateVersioned(ctx, l.base, colLists, name, "list", true, func(d *listDoc, exists bool) error {
			var dir dirBlob
			if exists && len(d.Blob) > 0 {
				if err := bson.Unmarshal(d.Blob, &dir); err != nil {
					return err
				}
			}
			for _, e := range dir.Buckets {
				if n, ok := counts[e.Bucket]; !ok || n < e.N {
					counts[e.Bucket] = e.N
				}
			}
			dir.Buckets = dir.Buckets[:0]
			for _, b := range slices.Sorted(maps.Keys(counts)) {
				dir.Buckets = append(dir.Buckets, dirEntry{Bucket: b, N: counts[b]})
			}
			blob, err := bson.Marshal(dir)
			if err != nil {
				return err
			}
			d.ID, d.N, d.Blob = name, len(dir.Buckets), blob
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: load list %s: %w", name, err)
		}
	}
	return nil
}

// mergeRows adds rows to a bucket document that may exist already and
// returns its row count.
func (db *DB) mergeRows(ctx context.Context, id string, add map[string]storedRow) (int, error) {
	n, err := db.changeBucket(ctx, id, func(rows []storedRow) ([]storedRow, bool) {
		rows = slices.DeleteFunc(rows, func(r storedRow) bool { _, ok := add[r.Key]; return ok })
		rows = append(rows, slices.Collect(maps.Values(add))...)
		slices.SortFunc(rows, rowLess)
		return rows, true
	}, nil)
	return n, err
}
