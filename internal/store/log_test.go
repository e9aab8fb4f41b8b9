package store

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// countingValuer counts how often the logger formats it.
type countingValuer struct{ n *int }

func (c countingValuer) LogValue() slog.Value { *c.n++; return slog.StringValue("formatted") }

func TestMinLevelFormatsOnlyKeptRecords(t *testing.T) {
	var buf bytes.Buffer
	calls := 0
	l := slog.New(minLevel{Handler: slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), level: slog.LevelWarn}).
		With("component", "ferretdb")

	l.With("args", countingValuer{&calls}).Debug(">>> INSERT")
	if calls != 0 || buf.Len() != 0 {
		t.Fatalf("a dropped DEBUG record was formatted: calls=%d output=%q", calls, buf.String())
	}
	l.WithGroup("sql").With("args", countingValuer{&calls}).Warn("slow statement")
	out := buf.String()
	if calls != 1 || !strings.Contains(out, "component=ferretdb") || !strings.Contains(out, "sql.args=formatted") || !strings.Contains(out, "slow statement") {
		t.Fatalf("kept WARN record lost its attributes: calls=%d output=%q", calls, out)
	}
	buf.Reset()
	l.Warn("Response 1: endSessions")
	if buf.Len() != 0 {
		t.Fatalf("wire-protocol dump was logged: %q", buf.String())
	}
}
