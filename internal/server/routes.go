package server

import "github.com/gofiber/fiber/v2"

// access says who may use a route. Every route declares one.
type access int

const (
	anyone   access = iota // public: no sign-in needed
	signedIn               // any signed-in account
	advocate               // accounts with the advocate role
	manager                // managers (their own organisation) and admins
	admin                  // administrators only
)

func (a access) String() string {
	return [...]string{"anyone", "signed-in", "advocate", "manager", "admin"}[a]
}

// route is one entry of the route table.
type route struct {
	method string
	path   string
	who    access
	handle fiber.Handler
}

// routeTable lists every route of the application and who may use it.
func (s *Server) routeTable() []route {
	return []route{
		// Platform
		{"GET", "/healthz", anyone, s.handleHealthz},
		{"GET", "/readyz", anyone, s.handleReadyz},
		{"GET", "/static/:hash/*", anyone, s.handleStatic},

		// Public pages
		{"GET", "/", anyone, s.handleHome},
		{"GET", "/pages/:slug", anyone, s.handleContentPage},
	}
}

// routes registers the route table behind each route's access guard.
func (s *Server) routes() {
	for _, r := range s.routeTable() {
		s.app.Add(r.method, r.path, s.guard(r.who), r.handle)
		if r.method == fiber.MethodGet {
			s.app.Add(fiber.MethodHead, r.path, s.guard(r.who), r.handle)
		}
	}
	s.app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}
