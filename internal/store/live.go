package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/live"
)

// Live training: one document per session, holding the session and its
// bookings as one opaque value (a webinar's hundreds of bookings as fields
// would cost the embedded database the square of their number on every
// read), changed by versioned read-modify-write: on the embedded database
// under the write lock, so a booking sees every other one before it. Two
// lists find sessions without a scan:
//
//	live@start           sessions by start time: the upcoming list, the
//	                     hourly pass over offers waiting for an answer
//	live@person/<user>   the sessions a person booked or waits for
const colLive = "live_sessions"

type liveDoc struct {
	ID    string    `bson:"_id"`
	Start time.Time `bson:"start"`
	Blob  []byte    `bson:"b"`
}

func (d *liveDoc) session() (*live.Session, error) {
	var s live.Session
	if err := bson.Unmarshal(d.Blob, &s); err != nil {
		return nil, fmt.Errorf("store: live session %s: %w", d.ID, err)
	}
	if s.Bookings == nil {
		s.Bookings = map[string]*live.Booking{}
	}
	return &s, nil
}

func (d *liveDoc) set(s *live.Session) error {
	b, err := bson.Marshal(s)
	if err != nil {
		return err
	}
	d.ID, d.Start, d.Blob = s.ID, s.Start, b
	return nil
}

var liveStartSpec = listSpec{prefix: 7, uncounted: true} // a bucket per month of starts

func (db *DB) liveStart() list { return db.list("live@start", liveStartSpec) }
func (db *DB) liveCourse(slug string) list {
	return db.list("live@course/"+slug, listSpec{uncounted: true})
}
func (db *DB) livePerson(userID string) list {
	return db.list("live@person/"+userID, listSpec{uncounted: true})
}

func liveSort(s *live.Session) string {
	return s.Start.UTC().Format("2006-01-02T15:04:05Z") + "/" + s.ID
}

// InsertLiveSession stores a new session and lists it by its start.
func (db *DB) InsertLiveSession(ctx context.Context, s *live.Session) error {
	if err := db.liveStart().Add(ctx, s.ID, liveSort(s), bson.D{}); err != nil { // listed first: a listed session not stored yet is skipped
		return fmt.Errorf("store: list live session: %w", err)
	}
	if s.Course != "" {
		if err := db.liveCourse(s.Course).Add(ctx, s.ID, liveSort(s), bson.D{}); err != nil {
			return fmt.Errorf("store: list live session: %w", err)
		}
	}
	_, err := updateVersioned(ctx, db, colLive, s.ID, "live session", true, func(d *liveDoc, exists bool) error {
		if exists {
			return errs.E(errs.ECONFLICT, "session exists")
		}
		return d.set(s)
	})
	return err
}

// LiveSession returns a session.
func (db *DB) LiveSession(ctx context.Context, id string) (*live.Session, error) {
	d, err := findByID[versioned[liveDoc]](ctx, db.coll(colLive), id, "live session")
	if err != nil {
		return nil, errs.Wrap(errs.ENOTFOUND, err, "We could not find that session.")
	}
	return d.Doc.session()
}

// UpdateLiveSession applies fn to a session in one versioned write.
func (db *DB) UpdateLiveSession(ctx context.Context, id string, fn func(s *live.Session) error) (*live.Session, error) {
	var out *live.Session
	_, err := updateVersioned(ctx, db, colLive, id, "live session", false, func(d *liveDoc, exists bool) error {
		s, err := d.session()
		if err != nil {
			return err
		}
		if err := fn(s); err != nil {
			if errors.Is(err, live.ErrNoChange) {
				out = s
				return errNoChange
			}
			return err
		}
		out = s
		return d.set(s)
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	if err != nil {
		if errs.CodeOf(err) == errs.ENOTFOUND {
			return nil, errs.E(errs.ENOTFOUND, "We could not find that session.")
		}
		return nil, err
	}
	return out, nil
}

// UpcomingLiveSessions returns up to limit sessions starting at or after
// from, soonest first.
func (db *DB) UpcomingLiveSessions(ctx context.Context, from time.Time, limit int) ([]*live.Session, error) {
	return db.upcoming(ctx, db.liveStart(), from, limit)
}

// CourseLiveSessions returns up to limit sessions of a course starting at
// or after from, soonest first.
func (db *DB) CourseLiveSessions(ctx context.Context, course string, from time.Time, limit int) ([]*live.Session, error) {
	return db.upcoming(ctx, db.liveCourse(course), from, limit)
}

func (db *DB) upcoming(ctx context.Context, l list, from time.Time, limit int) ([]*live.Session, error) {
	var rows []Row
	err := l.Scan(ctx, from.UTC().Format("2006-01-02T15:04:05Z"), func(r Row) (bool, error) {
		rows = append(rows, r)
		return len(rows) < limit, nil
	})
	if err != nil {
		return nil, err
	}
	return db.liveSessions(ctx, rows)
}

func (db *DB) liveSessions(ctx context.Context, rows []Row) ([]*live.Session, error) {
	docs, err := readRows[versioned[liveDoc]](ctx, db, colLive, rows)
	if err != nil {
		return nil, err
	}
	var out []*live.Session
	for _, d := range docs {
		if d == nil {
			continue
		}
		s, err := d.Doc.session()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ListPersonLiveSession lists a session among a person's, in their list
// of sessions and of records about them (before their booking is
// written; harmless to repeat).
func (db *DB) ListPersonLiveSession(ctx context.Context, userID string, s *live.Session) error {
	if err := db.notePerson(ctx, userID, Ref{Collection: colLive, ID: s.ID}); err != nil {
		return err
	}
	return db.livePerson(userID).Add(ctx, s.ID, liveSort(s), bson.D{})
}

// RelistLiveSession moves a session whose start (or course) changed in
// its lists and its people's: listed under the new sort first, then taken
// from under the old, so it is never missing from a list.
func (db *DB) RelistLiveSession(ctx context.Context, old, s *live.Session) error {
	lists := []list{db.liveStart()}
	for uid := range s.Bookings {
		lists = append(lists, db.livePerson(uid))
	}
	for _, l := range lists {
		if err := l.Add(ctx, s.ID, liveSort(s), bson.D{}); err != nil {
			return fmt.Errorf("store: relist live session: %w", err)
		}
		if liveSort(old) != liveSort(s) {
			if err := l.removeAt(ctx, s.ID, liveSort(old)); err != nil {
				return fmt.Errorf("store: relist live session: %w", err)
			}
		}
	}
	if old.Course != "" && (old.Course != s.Course || liveSort(old) != liveSort(s)) {
		if err := db.liveCourse(old.Course).removeAt(ctx, s.ID, liveSort(old)); err != nil {
			return err
		}
	}
	if s.Course != "" {
		return db.liveCourse(s.Course).Add(ctx, s.ID, liveSort(s), bson.D{})
	}
	return nil
}

// ForgetPersonLiveSession takes a session out of a person's lists (their
// booking was erased).
func (db *DB) ForgetPersonLiveSession(ctx context.Context, userID string, s *live.Session) error {
	if err := db.livePerson(userID).Remove(ctx, s.ID, liveSort(s)); err != nil {
		return err
	}
	return db.forgetPerson(ctx, userID, Ref{Collection: colLive, ID: s.ID})
}

// DeleteLiveFeed forgets a person's calendar feed generation.
func (db *DB) DeleteLiveFeed(ctx context.Context, userID string) error {
	_, err := db.coll(colLiveFeeds).DeleteOne(ctx, bson.D{{Key: "_id", Value: userID}})
	return err
}

// PersonLiveSessions returns the sessions a person booked or waits for,
// soonest first.
func (db *DB) PersonLiveSessions(ctx context.Context, userID string) ([]*live.Session, error) {
	var rows []Row
	if err := db.livePerson(userID).Scan(ctx, "", func(r Row) (bool, error) { rows = append(rows, r); return true, nil }); err != nil {
		return nil, err
	}
	return db.liveSessions(ctx, rows)
}

// colLiveFeeds keeps, per person, the generation of their calendar feed
// link (a reset makes a new one, and the old link stops working) and the
// sessions they were booked on and missed (their no-shows).
const colLiveFeeds = "live_feeds"

type liveFeedDoc struct {
	UserID     string   `bson:"_id"`
	Generation int      `bson:"generation"`
	NoShows    []string `bson:"no_shows,omitempty"` // session IDs
}

// SetLiveNoShow records (missed) or clears that a person missed a session
// they were booked on; repeating it is harmless.
func (db *DB) SetLiveNoShow(ctx context.Context, userID, sessionID string, missed bool) error {
	op := "$pull"
	if missed {
		op = "$addToSet"
	}
	_, err := db.coll(colLiveFeeds).UpdateOne(ctx, bson.D{{Key: "_id", Value: userID}},
		bson.D{{Key: op, Value: bson.D{{Key: "no_shows", Value: sessionID}}}}, options.UpdateOne().SetUpsert(missed))
	if err != nil {
		return fmt.Errorf("store: live no-show: %w", err)
	}
	return nil
}

// LiveNoShows returns how many sessions a person missed.
func (db *DB) LiveNoShows(ctx context.Context, userID string) (int, error) {
	d, err := findByID[liveFeedDoc](ctx, db.coll(colLiveFeeds), userID, "live training record")
	if errs.Is(err, errs.ENOTFOUND) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return len(d.NoShows), nil
}

// QueueLiveHandOver queues an attendance mark's hand-over (before the
// mark is written); DoneLiveHandOver drops it once done.
func (db *DB) QueueLiveHandOver(ctx context.Context, sessionID, userID string, at time.Time) error {
	return db.PutWork(ctx, QueueLiveHandOver, sessionID+"/"+userID, at)
}

// DoneLiveHandOver drops an attendance mark's hand-over from its queue.
func (db *DB) DoneLiveHandOver(ctx context.Context, sessionID, userID string) error {
	return db.DoneWork(ctx, QueueLiveHandOver, sessionID+"/"+userID)
}

// LiveHandOvers returns up to limit queued hand-overs: session, person and
// when queued.
func (db *DB) LiveHandOvers(ctx context.Context, limit int) ([]live.HandOverItem, error) {
	items, err := db.Work(ctx, QueueLiveHandOver, limit)
	if err != nil {
		return nil, err
	}
	out := make([]live.HandOverItem, 0, len(items))
	for _, it := range items {
		ses, user, ok := strings.Cut(it.Key, "/")
		if !ok {
			if err := db.DoneWork(ctx, QueueLiveHandOver, it.Key); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, live.HandOverItem{Session: ses, User: user, Queued: it.Created})
	}
	return out, nil
}

// RecentLiveSessions returns up to limit sessions that started between
// from and to, soonest first (the registers to mark, the needs to delete).
func (db *DB) RecentLiveSessions(ctx context.Context, from, to time.Time, limit int) ([]*live.Session, error) {
	end := to.UTC().Format("2006-01-02T15:04:05Z")
	var rows []Row
	err := db.liveStart().Scan(ctx, from.UTC().Format("2006-01-02T15:04:05Z"), func(r Row) (bool, error) {
		if r.Sort >= end {
			return false, nil
		}
		rows = append(rows, r)
		return len(rows) < limit, nil
	})
	if err != nil {
		return nil, err
	}
	return db.liveSessions(ctx, rows)
}

// LiveFeedGeneration returns a person's feed generation (0: never reset).
func (db *DB) LiveFeedGeneration(ctx context.Context, userID string) (int, error) {
	d, err := findByID[liveFeedDoc](ctx, db.coll(colLiveFeeds), userID, "calendar feed")
	if errs.Is(err, errs.ENOTFOUND) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return d.Generation, nil
}

// BumpLiveFeed starts a new generation of a person's feed link.
func (db *DB) BumpLiveFeed(ctx context.Context, userID string) error {
	_, err := db.coll(colLiveFeeds).UpdateOne(ctx, bson.D{{Key: "_id", Value: userID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "generation", Value: 1}}}}, options.UpdateOne().SetUpsert(true))
	return err
}
