package server

// RouteInfo describes one route of the table for tests outside the package.
type RouteInfo struct {
	Method, Path, Who string
}

// Routes returns the route table.
func (s *Server) Routes() []RouteInfo {
	var out []RouteInfo
	for _, r := range s.routeTable() {
		out = append(out, RouteInfo{r.method, r.path, r.who.String()})
	}
	return out
}

// SessionCacheTTL is exported for the multi-instance test.
const SessionCacheTTL = sessionCacheTTL
