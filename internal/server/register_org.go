package server

import (
	"context"
	"strings"

	"github.com/family-advocacy/lms/internal/auth"
)

// listedByName reads where a registrant says they work (the org choice and
// the name typed in org_name): a typed name that is an organisation of the
// list after all (the same name, whatever its case, accents or
// punctuation) counts as choosing it, so the request goes to it rather
// than waiting for an admin to merge the name. Anything else is passed on
// as given, for auth.Registration to check.
func (s *Server) listedByName(ctx context.Context, org, name string) (string, string, error) {
	if org != "" && org != auth.UnlistedOrganisation || strings.TrimSpace(name) == "" {
		return org, name, nil
	}
	key := auth.UnlistedKey(name)
	if key == "" {
		return org, name, nil
	}
	orgs, err := s.auth.Organisations(ctx) // bounded by the organisation's partners
	if err != nil {
		return "", "", err
	}
	for _, o := range orgs {
		if auth.UnlistedKey(o.Name) == key {
			return o.ID, "", nil
		}
	}
	return org, name, nil
}
