package learning

import "context"

// ErasePerson deletes a person's learning records (erasure): their
// submissions and attempt papers (by ID), then each enrolment with its
// completion's place in the course lists. The enrolments go last because
// the attempts are found from them: an erasure that stopped half-way
// still finds what is left when it runs again.
func (s *Service) ErasePerson(ctx context.Context, enrolments []Enrolment, attempts, submissions []string) error {
	for _, id := range submissions {
		if err := s.store.DeleteSubmission(ctx, id); err != nil {
			return err
		}
	}
	for _, id := range attempts {
		if err := s.store.DeleteAttempt(ctx, id); err != nil {
			return err
		}
	}
	for i := range enrolments {
		if err := s.store.DeleteEnrolment(ctx, &enrolments[i]); err != nil {
			return err
		}
		s.cache.drop(enrolments[i].ID)
	}
	return nil
}
