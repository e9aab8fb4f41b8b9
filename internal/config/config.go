// Package config reads the application's configuration once, from the
// environment and command-line flags, into a Config value.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of one process. It is built once in
// main and passed down; nothing reads the environment after that.
type Config struct {
	Addr    string // LMS_ADDR: listen address
	BaseURL string // LMS_BASE_URL: public URL used in links, QR codes and emails
	DataDir string // LMS_DATA_DIR: local state (embedded DB, managed MinIO, generated keys)

	MongoURI      string // MONGODB_URI: empty = embedded FerretDB
	MongoDatabase string // MONGODB_DATABASE

	MinioEndpoint  string // MINIO_ENDPOINT: empty = managed local MinIO
	MinioAccessKey string // MINIO_ACCESS_KEY
	MinioSecretKey string // MINIO_SECRET_KEY
	MinioUseSSL    bool   // MINIO_USE_SSL
	MinioBucket    string // MINIO_BUCKET
	MinioBinary    string // LMS_MINIO_BIN: managed MinIO server binary; empty = ./bin/minio, then PATH

	SecretKey string // LMS_SECRET_KEY: base64 of 32 bytes; empty in local mode = generated in the data dir

	SMTPURL  string // SMTP_URL: empty = messages go to the outbox collection
	SMTPFrom string // SMTP_FROM: the sender, e.g. "Family Advocacy Learning <no-reply@example.org>"

	CoursesDir       string // LMS_COURSES_DIR: course catalogue on disk; empty = the embedded one
	CompliancePolicy string // LMS_COMPLIANCE_POLICY: policy file; empty = content/compliance/policy.yaml

	Demo     bool   // LMS_DEMO: seed demo data into an empty database
	LogLevel string // LMS_LOG_LEVEL: debug, info, warn, error
	LogJSON  bool   // LMS_LOG_JSON: JSON logs instead of text

	// Registration (LMS_REGISTRATION) says who may create an account:
	// open (anyone, at once), verify (default: anyone, who confirms their
	// email address before enrolling) or invite (nobody: staff create
	// accounts).
	Registration string

	CertificateDelivery string // LMS_CERTIFICATE_DELIVERY: stream (default) or presign
	OrgName             string // LMS_ORG_NAME: the organisation named on certificates
	ContentOwner        string // LMS_CONTENT_OWNER: email told when a course's review falls due, unless the course names its owner

	// DBS Update Service status checks run by the app (with consent).
	DBSUpdateURL string // LMS_DBS_UPDATE_URL: the status-check interface; empty = the app does not check (managers record checks made by hand)
	DBSChecker   string // LMS_DBS_CHECKER: the named person the checks are made as, "Forename Surname" (required with the URL)
	DBSOrgName   string // LMS_DBS_ORGANISATION: the organisation named in the checks (default LMS_ORG_NAME)

	// Retention (see the privacy notice, content/pages/privacy.md).
	ErasureCertificates     string // LMS_ERASURE_CERTIFICATES: keep-status (default) or delete
	RetainEndedAdvocateMths int    // LMS_RETAIN_ENDED_ADVOCATE_MONTHS: compliance records after the contract ends (default 72)
	RetainOutboxDays        int    // LMS_RETAIN_OUTBOX_DAYS: copies of sent emails (default 365)

	MailWorkers int // LMS_MAIL_WORKERS: emails delivered at once, each on its own kept SMTP connection (default 4)

	// TrustedProxies (LMS_TRUSTED_PROXIES: comma-separated addresses or
	// CIDR ranges) are the load balancers in front of the app; only from
	// them is X-Forwarded-For believed when finding a client's address for
	// sign-in throttling and rate limits.
	TrustedProxies []netip.Prefix

	ShutdownTimeout time.Duration // time allowed for in-flight requests on shutdown
	RequestTimeout  time.Duration // the deadline of one request's work (database, storage, mail)
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Addr:                    "127.0.0.1:8080",
		DataDir:                 "./data",
		MongoDatabase:           "lms",
		MinioBucket:             "lms",
		LogLevel:                "info",
		Registration:            "verify",
		CertificateDelivery:     "stream",
		OrgName:                 "Family Advocacy Service",
		ErasureCertificates:     "keep-status",
		RetainEndedAdvocateMths: 72,
		RetainOutboxDays:        365,
		MailWorkers:             4,
		// Within the 10 s a stop may take: requests 6 s, emails 1 s, the
		// database 1.5 s, MinIO 1.5 s (see app.Run).
		ShutdownTimeout: 6 * time.Second,
		RequestTimeout:  60 * time.Second,
	}
}

// Load builds a Config from defaults, then the environment (getenv), then the
// flags in args. Flags win over the environment.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	c := Default()
	env := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	var errs []error
	envBool := func(name string, dst *bool) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q is not true or false", name, v))
			return
		}
		*dst = b
	}
	env("LMS_ADDR", &c.Addr)
	env("LMS_BASE_URL", &c.BaseURL)
	env("LMS_DATA_DIR", &c.DataDir)
	env("MONGODB_URI", &c.MongoURI)
	env("MONGODB_DATABASE", &c.MongoDatabase)
	env("MINIO_ENDPOINT", &c.MinioEndpoint)
	env("MINIO_ACCESS_KEY", &c.MinioAccessKey)
	env("MINIO_SECRET_KEY", &c.MinioSecretKey)
	envBool("MINIO_USE_SSL", &c.MinioUseSSL)
	env("MINIO_BUCKET", &c.MinioBucket)
	env("LMS_MINIO_BIN", &c.MinioBinary)
	env("LMS_SECRET_KEY", &c.SecretKey)
	env("SMTP_URL", &c.SMTPURL)
	env("SMTP_FROM", &c.SMTPFrom)
	env("LMS_COURSES_DIR", &c.CoursesDir)
	env("LMS_COMPLIANCE_POLICY", &c.CompliancePolicy)
	envBool("LMS_DEMO", &c.Demo)
	env("LMS_LOG_LEVEL", &c.LogLevel)
	envBool("LMS_LOG_JSON", &c.LogJSON)
	env("LMS_REGISTRATION", &c.Registration)
	env("LMS_CERTIFICATE_DELIVERY", &c.CertificateDelivery)
	env("LMS_ORG_NAME", &c.OrgName)
	env("LMS_CONTENT_OWNER", &c.ContentOwner)
	env("LMS_DBS_UPDATE_URL", &c.DBSUpdateURL)
	env("LMS_DBS_CHECKER", &c.DBSChecker)
	env("LMS_DBS_ORGANISATION", &c.DBSOrgName)
	env("LMS_ERASURE_CERTIFICATES", &c.ErasureCertificates)
	envInt := func(name string, dst *int) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				errs = append(errs, fmt.Errorf("%s=%q: want a whole number of at least 1", name, v))
				return
			}
			*dst = n
		}
	}
	envInt("LMS_RETAIN_ENDED_ADVOCATE_MONTHS", &c.RetainEndedAdvocateMths)
	envInt("LMS_RETAIN_OUTBOX_DAYS", &c.RetainOutboxDays)
	envInt("LMS_MAIL_WORKERS", &c.MailWorkers)
	if v := strings.TrimSpace(getenv("LMS_TRUSTED_PROXIES")); v != "" {
		for _, p := range strings.Split(v, ",") {
			prefix, err := parsePrefix(strings.TrimSpace(p))
			if err != nil {
				errs = append(errs, fmt.Errorf("LMS_TRUSTED_PROXIES: %q is not an IP address or CIDR range", strings.TrimSpace(p)))
				continue
			}
			c.TrustedProxies = append(c.TrustedProxies, prefix)
		}
	}

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (LMS_ADDR)")
	fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, "public base URL (LMS_BASE_URL)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory (LMS_DATA_DIR)")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "seed demo data into an empty database (LMS_DEMO)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (LMS_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
		if strings.HasPrefix(c.Addr, "127.0.0.1:") || strings.HasPrefix(c.Addr, ":") {
			c.BaseURL = "http://localhost:" + c.Addr[strings.LastIndex(c.Addr, ":")+1:]
		}
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	errs = append(errs, c.validate())
	return c, errors.Join(errs...)
}

func (c *Config) validate() error {
	var errs []error
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("LMS_BASE_URL=%q is not an http(s) URL", c.BaseURL))
	}
	if c.MinioEndpoint != "" && (c.MinioAccessKey == "" || c.MinioSecretKey == "") {
		errs = append(errs, errors.New("MINIO_ENDPOINT is set, so MINIO_ACCESS_KEY and MINIO_SECRET_KEY are required"))
	}
	if c.ContentOwner != "" {
		if a, err := mail.ParseAddress(c.ContentOwner); err != nil || a.Address != c.ContentOwner {
			errs = append(errs, fmt.Errorf("LMS_CONTENT_OWNER=%q is not an email address", c.ContentOwner))
		}
	}
	if c.DBSUpdateURL != "" {
		if u, err := url.Parse(c.DBSUpdateURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("LMS_DBS_UPDATE_URL=%q is not an http(s) URL", c.DBSUpdateURL))
		}
		if _, _, ok := c.DBSCheckerName(); !ok {
			errs = append(errs, errors.New("LMS_DBS_UPDATE_URL is set, so LMS_DBS_CHECKER must name the person checking, as \"Forename Surname\""))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("LMS_LOG_LEVEL=%q: want debug, info, warn or error", c.LogLevel))
	}
	switch c.Registration {
	case "open", "verify", "invite":
	default:
		errs = append(errs, fmt.Errorf("LMS_REGISTRATION=%q: want open, verify or invite", c.Registration))
	}
	switch c.CertificateDelivery {
	case "stream", "presign":
	default:
		errs = append(errs, fmt.Errorf("LMS_CERTIFICATE_DELIVERY=%q: want stream or presign", c.CertificateDelivery))
	}
	// Each reminder stage is recorded by its message in the outbox: keeping
	// messages for less than the longest reminder cycle would send stages again.
	if c.RetainOutboxDays < 90 {
		errs = append(errs, fmt.Errorf("LMS_RETAIN_OUTBOX_DAYS=%d: keep copies of emails at least 90 days (each reminder stage is recorded by its email)", c.RetainOutboxDays))
	}
	switch c.ErasureCertificates {
	case "keep-status", "delete":
	default:
		errs = append(errs, fmt.Errorf("LMS_ERASURE_CERTIFICATES=%q: want keep-status or delete", c.ErasureCertificates))
	}
	return errors.Join(errs...)
}

// parsePrefix reads "10.0.0.0/8" or a single address ("10.0.0.5", "::1").
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// SecureCookies reports whether cookies must carry the Secure attribute.
func (c *Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// Embedded reports whether the process runs its own database.
func (c *Config) Embedded() bool { return c.MongoURI == "" }

// RedactURI hides the password in a connection URI so it can be logged.
func RedactURI(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URI)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	return u.String()
}

// DBSCheckerName splits LMS_DBS_CHECKER into forename and surname (the
// last word).
func (c *Config) DBSCheckerName() (forename, surname string, ok bool) {
	f := strings.Fields(c.DBSChecker)
	if len(f) < 2 {
		return "", "", false
	}
	return strings.Join(f[:len(f)-1], " "), f[len(f)-1], true
}
