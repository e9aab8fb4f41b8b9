package config

import (
	"io"
	"strings"
	"testing"
)

func TestTrustedProxies(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "LMS_TRUSTED_PROXIES" {
				return v
			}
			return ""
		}
	}
	c, err := Load(nil, env("10.0.0.0/8, 192.168.1.20 ,::1"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.TrustedProxies {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.168.1.20/32 ::1/128" {
		t.Fatalf("trusted proxies: %v", got)
	}
	if _, err := Load(nil, env("10.0.0.0/8,load-balancer"), io.Discard); err == nil || !strings.Contains(err.Error(), `"load-balancer" is not an IP address or CIDR range`) {
		t.Fatalf("a bad entry: %v", err)
	}
}

func TestRetentionPeriodsHaveFloors(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"LMS_RETAIN_OUTBOX_DAYS", "7", "keep copies of emails at least 90 days"},
		{"LMS_RETAIN_ENDED_ADVOCATE_MONTHS", "0", "at least 1"},
	} {
		_, err := Load(nil, func(k string) string {
			if k == tc.name {
				return tc.value
			}
			return ""
		}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: %v", tc.name, tc.value, err)
		}
	}
}
