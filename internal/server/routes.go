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
	trainer                // trainers and admins: live training
)

func (a access) String() string {
	return [...]string{"anyone", "signed-in", "advocate", "manager", "admin", "trainer"}[a]
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

		// Courses and the learning journey
		{"GET", "/courses", anyone, s.handleCatalogue},
		{"GET", "/courses/:slug", anyone, s.handleCourse},
		{"POST", "/courses/:slug/enrol", signedIn, s.handleEnrol},
		{"GET", "/courses/:slug/print", signedIn, s.handleCoursePrint},
		{"GET", "/courses/:slug/lessons/:lesson", signedIn, s.handleLesson}, // own enrolment only
		{"POST", "/courses/:slug/lessons/:lesson/complete", signedIn, s.handleLessonComplete},
		{"GET", "/courses/:slug/assessment", signedIn, s.handleAssessment},
		{"POST", "/courses/:slug/assessment/start", signedIn, s.handleAttemptStart},
		{"POST", "/courses/:slug/assessment/:no", signedIn, s.handleAttemptSubmit}, // own attempts only
		{"GET", "/courses/:slug/assessment/:no/result", signedIn, s.handleAttemptResult},
		{"GET", "/my/learning", signedIn, s.handleMyLearning},
		{"GET", "/my/evaluation/:slug/before", signedIn, s.handleEvaluationForm("before")}, // own enrolment only
		{"POST", "/my/evaluation/:slug/before", signedIn, s.handleEvaluation("before")},    // asked once
		{"GET", "/my/evaluation/:slug/after", signedIn, s.handleEvaluationForm("after")},   // after their pass
		{"POST", "/my/evaluation/:slug/after", signedIn, s.handleEvaluation("after")},
		{"GET", "/my/evaluation/:slug/follow-up", signedIn, s.handleEvaluationForm("follow-up")},
		{"POST", "/my/evaluation/:slug/follow-up", signedIn, s.handleEvaluation("follow-up")},

		// Live training
		{"GET", "/live", anyone, s.handleLive},
		{"GET", "/live/feed/:user/:token", anyone, s.handleLiveFeed}, // the token is the key; revocable
		{"GET", "/live/:id", anyone, s.handleLiveSession},
		{"POST", "/live/:id/book", signedIn, s.handleLiveBook},       // for themselves, or a manager for their own people
		{"POST", "/live/:id/cancel", signedIn, s.handleLiveCancel},   // their own booking
		{"POST", "/live/:id/confirm", signedIn, s.handleLiveConfirm}, // an offer made to them
		{"GET", "/live/:id/invite.ics", signedIn, s.handleLiveInvite},
		{"GET", "/my/live", signedIn, s.handleMyLive},
		{"POST", "/my/live/feed/reset", signedIn, s.handleMyLiveFeedReset},
		{"GET", "/trainer/live", trainer, s.handleTrainerLive},
		{"GET", "/trainer/live/new", trainer, s.handleLiveNewForm},
		{"POST", "/trainer/live/new", trainer, s.handleLiveNew},
		{"GET", "/trainer/live/report", trainer, s.handleLiveReport},
		{"GET", "/trainer/live/report.csv", trainer, s.handleLiveReportCSV},
		{"GET", "/trainer/live/:id", trainer, s.handleTrainerSession}, // access and dietary needs: trainers only
		{"GET", "/trainer/live/:id/register", trainer, s.handleLiveRegister},
		{"POST", "/trainer/live/:id/register", trainer, s.handleLiveRegisterSave},
		{"GET", "/trainer/live/:id/edit", trainer, s.handleLiveEditForm},
		{"POST", "/trainer/live/:id/edit", trainer, s.handleLiveEdit}, // a change of time or place tells everyone booked
		{"POST", "/trainer/live/:id/cancel-session", trainer, s.handleLiveCancelSession},
		{"GET", "/trainer/live/:id/bookings.csv", trainer, s.handleLiveBookingsCSV},
		{"GET", "/trainer/live/:id/sign-in.pdf", trainer, s.handleLiveSignInSheet},

		// Certificates
		{"GET", "/my/certificates", signedIn, s.handleMyCertificates},
		{"POST", "/my/certificates/:code/reissue-request", signedIn, s.handleReissueRequest}, // own certificates only
		{"GET", "/certificates/:code/download", signedIn, s.handleCertificateDownload},       // learner, their manager, admins
		{"GET", "/unsubscribe", anyone, s.handleUnsubscribeForm},                             // the signed link in optional emails
		{"POST", "/unsubscribe", anyone, s.handleUnsubscribe},
		{"GET", "/verify", anyone, s.handleVerifyForm},
		{"POST", "/verify", anyone, s.handleVerifyCode},
		{"POST", "/verify/file", anyone, s.handleVerifyFile},   // rate-limited
		{"GET", "/verify/:code", anyone, s.handleVerifyResult}, // rate-limited

		// Advocates' compliance: managers see and act on their own
		// organisation's advocates only (checked per advocate), admins on all.
		{"GET", "/manage", manager, s.handleDashboard},
		{"GET", "/manage/advocates.csv", manager, s.handleDashboardCSV},
		{"GET", "/manage/lapsing", manager, s.handleLapsing},
		{"POST", "/manage/lapsing/remind", manager, s.handleRemindNow}, // the advocate's organisation only (checked); audited
		{"GET", "/manage/training", manager, s.handleTraining},         // the manager's own organisation's people (admins: ?org=)
		{"GET", "/manage/training.csv", manager, s.handleTrainingCSV},  // the same, every person
		{"GET", "/manage/report.pdf", manager, s.handleOrgReportPDF},
		{"GET", "/manage/impact", manager, s.handleImpact},               // a manager's own organisation; admins any
		{"GET", "/manage/impact.csv", manager, s.handleImpactCSV},        // anonymous rows
		{"GET", "/manage/impact.pdf", manager, s.handleImpactPDF},        // published comments only
		{"POST", "/admin/impact/comments", admin, s.handleImpactComment}, // audited
		{"GET", "/manage/policy", manager, s.handlePolicy},
		{"GET", "/manage/advocates/new", manager, s.handleNewAdvocateForm},
		{"POST", "/manage/advocates", manager, s.handleCreateAdvocate},
		{"GET", "/manage/advocates/:id", manager, s.handleAdvocate},
		{"GET", "/manage/advocates/:id/report.pdf", manager, s.handleAdvocateReportPDF},
		{"GET", "/manage/advocates/:id/cpd.csv", manager, s.handleCPDCSV},
		{"POST", "/manage/advocates/:id/profile", manager, s.handleAdvocateProfile},
		{"POST", "/manage/advocates/:id/training", manager, s.handleAdvocateTraining},
		{"POST", "/manage/advocates/:id/dbs", manager, s.handleAddDBS},
		{"POST", "/manage/advocates/:id/dbs/:check/status-check", manager, s.handleAddStatusCheck},
		{"POST", "/manage/advocates/:id/dbs/:check/reveal", manager, s.handleRevealDBS}, // audited
		{"POST", "/manage/advocates/:id/dbs/:check/decision", manager, s.handleDecideDBS},
		{"POST", "/manage/advocates/:id/dbs/:check/consent", manager, s.handleStatusConsent},            // a signed form; audited
		{"POST", "/manage/advocates/:id/dbs/:check/consent/withdraw", manager, s.handleWithdrawConsent}, // audited
		{"POST", "/manage/advocates/:id/dbs/:check/dob", manager, s.handleRevealDOB},                    // audited
		{"POST", "/manage/advocates/:id/dbs/:check/check-now", manager, s.handleCheckNow},               // rate-limited; audited
		{"POST", "/manage/advocates/:id/dbs/:check/review", manager, s.handleStatusReview},              // audited
		{"POST", "/manage/advocates/:id/references", manager, s.handleAddReference},
		{"POST", "/manage/advocates/:id/references/:ref/verify", manager, s.handleVerifyReference},
		{"POST", "/manage/advocates/:id/references/:ref/outcome", manager, s.handleReferenceOutcome},
		{"POST", "/manage/advocates/:id/cpd", manager, s.handleAddCPD},
		{"POST", "/manage/advocates/:id/cpd/:entry/verify", manager, s.handleVerifyCPD},
		{"GET", "/manage/advocates/:id/cpd/:entry/evidence/:n", manager, s.handleEvidence},
		{"POST", "/manage/advocates/:id/supervisions", manager, s.handleAddSupervision},
		{"POST", "/manage/advocates/:id/:kind/:record/delete", manager, s.handleDeleteRecord}, // cpd, references, supervisions; audited
		// Requests to join an organisation: its managers and admins decide
		// (checked per request); audited.
		{"GET", "/manage/join-requests", manager, s.handleJoinRequests},
		{"POST", "/manage/join-requests/:id/approve", manager, s.handleJoinApprove},
		{"POST", "/manage/join-requests/:id/decline", manager, s.handleJoinDecline},
		{"GET", "/my/compliance", advocate, s.handleMyCompliance},
		{"POST", "/my/compliance/cpd", advocate, s.handleAddCPD},
		{"POST", "/my/compliance/dbs/:check/consent", advocate, s.handleStatusConsent},            // their own consent; audited
		{"POST", "/my/compliance/dbs/:check/consent/withdraw", advocate, s.handleWithdrawConsent}, // audited
		{"GET", "/my/compliance/cpd.csv", advocate, s.handleCPDCSV},
		{"GET", "/my/compliance/policy", advocate, s.handlePolicy},
		{"GET", "/my/compliance/cpd/:entry/evidence/:n", advocate, s.handleEvidence},
		{"POST", "/my/compliance/:kind/:record/delete", advocate, s.handleDeleteRecord}, // own unverified CPD only

		// Accounts: registration, sign-in, password reset
		{"GET", "/register", anyone, s.handleRegisterForm},
		{"POST", "/register", anyone, s.handleRegister},
		{"GET", "/login", anyone, s.handleLoginForm},
		{"POST", "/login", anyone, s.handleLogin},
		{"GET", "/login/2fa", anyone, s.handleSecondFactorForm}, // needs a session waiting for a code
		{"POST", "/login/2fa", anyone, s.handleSecondFactor},
		{"POST", "/logout", anyone, s.handleLogout}, // also a session waiting for its code
		{"GET", "/password/forgot", anyone, s.handleForgotForm},
		{"POST", "/password/forgot", anyone, s.handleForgot},
		{"GET", "/password/reset", anyone, s.handleResetForm}, // needs a valid emailed token
		{"POST", "/password/reset", anyone, s.handleReset},
		{"GET", "/account/confirm", anyone, s.handleConfirmForm}, // needs the link emailed at registration
		{"POST", "/account/confirm", anyone, s.handleConfirm},
		{"POST", "/account/confirm/send", signedIn, s.handleConfirmSend}, // a new link; throttled

		// Own account
		{"GET", "/account", signedIn, s.handleAccount},
		{"POST", "/account/profile", signedIn, s.handleProfile},
		{"POST", "/account/email", signedIn, s.handleEmailChange},           // with the current password (and code)
		{"GET", "/account/email/confirm", anyone, s.handleEmailConfirmForm}, // needs the link emailed to the new address
		{"POST", "/account/email/confirm", anyone, s.handleEmailConfirm},
		{"POST", "/account/reminders", signedIn, s.handleReminderPrefs},
		{"GET", "/account/export", signedIn, s.handleExportPage},                  // the viewer's own downloads only
		{"POST", "/account/export", signedIn, s.handleExportStart},                // built in the background
		{"GET", "/account/export/:id/download", signedIn, s.handleExportDownload}, // the owner only; audited
		{"GET", "/notifications", signedIn, s.handleNotifications},
		{"POST", "/notifications/read", signedIn, s.handleNotificationsRead},
		{"POST", "/account/password", signedIn, s.handlePassword},
		{"POST", "/account/sessions/:id/revoke", signedIn, s.handleRevokeSession}, // own sessions only
		{"GET", "/account/2fa", signedIn, s.handleTwoFactor},
		{"POST", "/account/2fa", signedIn, s.handleTwoFactorConfirm},
		{"POST", "/account/2fa/recovery-codes", signedIn, s.handleRecoveryCodes},
		{"POST", "/account/2fa/disable", signedIn, s.handleTwoFactorDisable},

		// Administration
		{"GET", "/admin", admin, s.handleAdminHome},
		{"GET", "/admin/users", admin, s.handleAdminUsers},
		// People (issue 17): added one at a time or from a CSV file (a dry
		// run first, which writes nothing), each invited to choose a
		// password; a person's page's support actions. Before /:id, which
		// would take "new" and "upload" for IDs. Every action is audited.
		{"GET", "/admin/users/new", admin, s.handleNewPersonForm},
		{"POST", "/admin/users", admin, s.handleNewPerson},
		{"GET", "/admin/users/upload", admin, s.handleUploadForm},
		{"GET", "/admin/users/upload/template.csv", admin, s.handleUploadTemplate},
		{"POST", "/admin/users/upload", admin, s.handleUploadCheck},           // the dry run: writes nothing
		{"POST", "/admin/users/upload/confirm", admin, s.handleUploadConfirm}, // idempotent: carries on where it stopped
		{"POST", "/admin/users/:id/invitation/resend", admin, s.handleInvitationResend},
		{"POST", "/admin/users/:id/invitation/revoke", admin, s.handleInvitationRevoke},
		{"POST", "/admin/users/:id/password-reset", admin, s.handleSendPasswordReset},
		{"POST", "/admin/users/:id/two-factor/reset", admin, s.handleResetTwoFactor}, // with a reason; not one's own
		{"POST", "/admin/users/:id/sign-out", admin, s.handleSignOutEverywhere},
		{"POST", "/admin/users/:id/compliance", admin, s.handleStartCompliance},
		{"GET", "/invitation", anyone, s.handleInvitationForm}, // needs the emailed link
		{"POST", "/invitation", anyone, s.handleInvitationAccept},
		{"GET", "/admin/users/:id", admin, s.handleAdminUser},
		{"POST", "/admin/users/:id", admin, s.handleAdminUserUpdate},
		{"POST", "/admin/users/:id/disable", admin, s.handleAdminUserDisable},
		{"POST", "/admin/users/:id/enable", admin, s.handleAdminUserDisable},
		{"GET", "/admin/users/:id/erase", admin, s.handleErasePlan}, // a dry run
		{"POST", "/admin/users/:id/erase", admin, s.handleErase},    // audited
		{"GET", "/admin/retention", admin, s.handleRetention},       // a dry run
		{"POST", "/admin/retention", admin, s.handleRetentionRun},
		{"GET", "/admin/organisations", admin, s.handleAdminOrgs},
		{"POST", "/admin/organisations", admin, s.handleAdminOrgCreate},
		{"GET", "/admin/organisations/unlisted", admin, s.handleUnlistedOrgs},         // names typed at registration, with counts
		{"POST", "/admin/organisations/unlisted/merge", admin, s.handleUnlistedMerge}, // into a partner organisation: requests to join; audited, resumable
		{"GET", "/admin/certificates", admin, s.handleAdminCertificates},
		{"POST", "/admin/certificates/find", admin, s.handleAdminCertificateFind},
		{"GET", "/admin/certificates/:code", admin, s.handleAdminCertificate},
		{"POST", "/admin/certificates/:code/revoke", admin, s.handleAdminCertificateRevoke},
		{"POST", "/admin/certificates/:code/reissue", admin, s.handleAdminCertificateReissue},
		{"POST", "/admin/courses/:slug/certificates/reissue", admin, s.handleAdminBulkReissue},
		{"GET", "/admin/courses/:slug/certificates.zip", admin, s.handleAdminCourseZip},
		{"GET", "/admin/courses/:slug/completions", admin, s.handleAdminCompletions},
		{"GET", "/admin/courses/:slug/completions.csv", admin, s.handleAdminCompletionsCSV},
		{"GET", "/admin/jobs/:id", admin, s.handleAdminJob},
		{"GET", "/admin/audit", admin, s.handleAudit},

		// Data-rights requests (access, erasure): a queue with due dates; audited.
		{"GET", "/admin/rights", admin, s.handleRights},
		{"GET", "/admin/rights/new", admin, s.handleRightsNew},
		{"POST", "/admin/rights", admin, s.handleRightsCreate},
		{"GET", "/admin/rights/:id", admin, s.handleRightsRequest},
		{"POST", "/admin/rights/:id/status", admin, s.handleRightsStatus},
		{"GET", "/admin/content-review", admin, s.handleContentReview},
		{"GET", "/admin/outbox", admin, s.handleOutbox},
		{"GET", "/admin/outbox/:id", admin, s.handleOutboxMessage},
	}
}

// routes registers the route table behind each route's access guard.
func (s *Server) routes() {
	for _, r := range s.routeTable() {
		s.app.Add(r.method, r.path, s.guard(r.who), r.handle)
		if r.method == fiber.MethodGet {
			s.hasGET[r.path] = true
			s.app.Add(fiber.MethodHead, r.path, s.guard(r.who), r.handle)
		}
	}
	// Anything else reaches the error handler as fiber.ErrNotFound.
}
