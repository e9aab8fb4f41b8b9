package server

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/family-advocacy/lms/internal/config"
)

func TestClientIPBelievesOnlyTrustedProxies(t *testing.T) {
	s := &Server{cfg: config.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}}
	app := fiber.New()
	for _, tc := range []struct {
		name, remote, xff, want string
	}{
		{"NoProxy", "203.0.113.7", "", "203.0.113.7"},
		{"UntrustedSenderCannotChooseItsAddress", "203.0.113.7", "198.51.100.1", "203.0.113.7"},
		{"BehindTheLoadBalancer", "10.1.2.3", "198.51.100.1", "198.51.100.1"},
		{"SpoofedEntryLeftOfTheRealClient", "10.1.2.3", "1.2.3.4, 198.51.100.1", "198.51.100.1"},
		{"TwoProxies", "10.1.2.3", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"MalformedEntry", "10.1.2.3", "198.51.100.1, garbage", "10.1.2.3"},
		{"TrustedWithoutHeader", "10.1.2.3", "", "10.1.2.3"},
		{"IPv6Proxy", "::1", "2001:db8::5", "2001:db8::5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req fasthttp.Request
			req.SetRequestURI("/")
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			var fctx fasthttp.RequestCtx
			fctx.Init(&req, &net.TCPAddr{IP: net.ParseIP(tc.remote), Port: 5000}, nil)
			c := app.AcquireCtx(&fctx)
			defer app.ReleaseCtx(c)
			if got := s.clientIP(c); got != tc.want {
				t.Fatalf("clientIP = %s, want %s", got, tc.want)
			}
		})
	}
}
