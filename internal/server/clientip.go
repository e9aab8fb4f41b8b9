package server

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// clientIP is the address of the browser behind a request, for sign-in
// throttling and rate limits. X-Forwarded-For is believed only when the
// connection comes from a trusted proxy (LMS_TRUSTED_PROXIES), and is read
// from the right: the first address that is not one of our proxies is the
// client, so a client cannot pick its own address by sending the header.
func (s *Server) clientIP(c *fiber.Ctx) string {
	remote, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.IP()
	}
	remote = remote.Unmap()
	if !s.trusted(remote) {
		return remote.String()
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed entry: trust nothing to its left
		}
		if a = a.Unmap(); !s.trusted(a) {
			return a.String()
		}
		remote = a
	}
	return remote.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
