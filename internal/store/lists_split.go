package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// Splitting a list bucket that has grown past splitBytes (see lists.go).

// dropStray drops the rows outside [low, next): copies a split left behind
// when it stopped after publishing the new bucket (they are in it).
func dropStray(rows []storedRow, low, next string) ([]storedRow, bool) {
	n := len(rows)
	rows = slices.DeleteFunc(rows, func(r storedRow) bool { return !inRange(r.Sort, low, next) })
	return rows, len(rows) != n
}

// split splits a bucket that has grown past splitBytes at its middle key.
// It records its intent in the prefix's directory, writes the upper rows
// to the new bucket, names the new bucket in the directory (and clears the
// intent), and last drops the upper rows from the old bucket. Readers keep
// to each bucket's range, so they see every row once throughout; a crash
// leaves either an intent, which the next write of the prefix finishes,
// or copies outside the old bucket's range, which its next write drops.
// The list is locked.
func (l list) split(ctx context.Context, prefix, low, next string) error {
	rows, _, err := l.bucketRows(ctx, low)
	if err != nil {
		return err
	}
	rows, _ = dropStray(rows, low, next)
	m := splitPoint(rows)
	if m <= 0 {
		return nil // one sort key throughout: it cannot be split
	}
	sp := splitting{Low: low, NewLow: separator(rows[m-1].Sort, rows[m].Sort)}
	if err := l.changePrefixDir(ctx, prefix, func(pd *prefixDir) error {
		pd.Split = &sp
		pd.Entries[covering(pd.Entries, low)].N = l.counted(len(rows))
		return nil
	}); err != nil {
		return err
	}
	return l.finishSplit(ctx, prefix, sp)
}

// finishSplit does the rest of a split whose intent is recorded.
func (l list) finishSplit(ctx context.Context, prefix string, sp splitting) error {
	pd, err := l.readPrefixDir(ctx, prefix)
	if err != nil {
		return err
	}
	next := ""
	if i := covering(pd.Entries, sp.Low); i+1 < len(pd.Entries) {
		next = pd.Entries[i+1].Key
	}
	rows, _, err := l.bucketRows(ctx, sp.Low)
	if err != nil {
		return err
	}
	var upper []storedRow
	for _, r := range rows {
		if inRange(r.Sort, sp.NewLow, next) {
			upper = append(upper, r)
		}
	}
	nUpper := 0
	if len(upper) > 0 {
		if nUpper, _, err = l.db.changeBucket(ctx, l.bucketID(sp.NewLow), func(have []storedRow) ([]storedRow, bool) {
			return mergeRows(have, upper), true
		}, nil); err != nil {
			return fmt.Errorf("store: list %s: %w", l.name, err)
		}
	}
	if err := l.changePrefixDir(ctx, prefix, func(pd *prefixDir) error {
		pd.Split = nil
		i, found := slices.BinarySearchFunc(pd.Entries, sp.NewLow, func(e dirEntry, k string) int { return cmp.Compare(e.Key, k) })
		if !found {
			pd.Entries = slices.Insert(pd.Entries, i, dirEntry{Key: sp.NewLow, N: l.counted(nUpper)})
			if i > 0 { // the old bucket keeps the rest
				pd.Entries[i-1].N = l.counted(max(len(rows)-len(upper), 0))
			}
		}
		return nil
	}); err != nil {
		return err
	}
	n, _, err := l.db.changeBucket(ctx, l.bucketID(sp.Low), func(rows []storedRow) ([]storedRow, bool) {
		return dropStray(rows, sp.Low, sp.NewLow)
	}, nil)
	if err != nil {
		return fmt.Errorf("store: list %s: %w", l.name, err)
	}
	return l.recount(ctx, prefix, sp.Low, n, entrySet, true)
}

// mergeRows adds rows to a bucket's rows, replacing those with the same key.
func mergeRows(have, add []storedRow) []storedRow {
	have = slices.DeleteFunc(have, func(r storedRow) bool {
		return slices.ContainsFunc(add, func(a storedRow) bool { return a.Key == r.Key })
	})
	have = append(have, add...)
	slices.SortFunc(have, rowLess)
	return have
}

// splitPoint returns the index nearest the middle of rows at which the sort
// key changes (0 when it never does).
func splitPoint(rows []storedRow) int {
	mid := len(rows) / 2
	for d := 0; d <= mid+1; d++ {
		for _, i := range []int{mid + d, mid - d} {
			if i > 0 && i < len(rows) && rows[i].Sort != rows[i-1].Sort {
				return i
			}
		}
	}
	return 0
}

// separator returns the shortest prefix of b that sorts after a (a < b).
func separator(a, b string) string {
	for i := 0; i < len(b); i++ {
		if i >= len(a) || a[i] != b[i] {
			return b[:i+1]
		}
	}
	return b
}
