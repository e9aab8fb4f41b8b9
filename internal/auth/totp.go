package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"image/png"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/family-advocacy/lms/internal/errs"
)

// Issuer names the service in authenticator apps.
const Issuer = "Family Advocacy Learning"

const (
	totpPeriod         = 30
	recoveryCodeCount  = 10
	codeFailureLimit   = 5
	totpSecretContext  = "user.totp_secret:"
	recoveryHashPrefix = "recovery-code"
)

// TOTPSetup is what the set-up page shows.
type TOTPSetup struct {
	Secret string // base32, for typing into an app
	URL    string // otpauth:// URL
	QRPNG  string // data: URL of a QR code of URL
}

// BeginTOTP creates a new secret for the user, kept pending until confirmed
// with a code. Calling it again replaces the pending secret.
func (s *Service) BeginTOTP(ctx context.Context, u *User) (*TOTPSetup, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: Issuer, AccountName: u.Email, Period: totpPeriod})
	if err != nil {
		return nil, err
	}
	if err := s.store.UpdateUser(ctx, u.ID, UserUpdate{TOTPPending: new(s.Box.Seal(key.Secret(), totpSecretContext+u.ID))}); err != nil {
		return nil, err
	}
	return setupFor(key.Secret(), otpauthURL(u.Email, key.Secret()))
}

// PendingTOTP returns the set-up details of the pending secret, if any.
func (s *Service) PendingTOTP(u *User) (*TOTPSetup, error) {
	if u.TOTPPending == "" {
		return nil, errs.E(errs.ENOTFOUND, "no pending set-up")
	}
	secret, err := s.Box.Open(u.TOTPPending, totpSecretContext+u.ID)
	if err != nil {
		return nil, err
	}
	return setupFor(secret, otpauthURL(u.Email, secret))
}

// otpauthURL is the key URI authenticator apps read from the QR code.
func otpauthURL(email, secret string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", Issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + Issuer + ":" + email, RawQuery: v.Encode()}
	return u.String()
}

func setupFor(secret, url string) (*TOTPSetup, error) {
	code, err := qr.Encode(url, qr.M, qr.Auto)
	if err != nil {
		return nil, err
	}
	code, err = barcode.Scale(code, 220, 220)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, code); err != nil {
		return nil, err
	}
	return &TOTPSetup{Secret: secret, URL: url, QRPNG: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// ConfirmTOTP checks a code against the pending secret, turns two-factor on
// and returns new recovery codes (shown once).
func (s *Service) ConfirmTOTP(ctx context.Context, u *User, code string) ([]string, error) {
	if u.TOTPPending == "" {
		return nil, errs.E(errs.ECONFLICT, "Start two-factor set-up again.")
	}
	secret, err := s.Box.Open(u.TOTPPending, totpSecretContext+u.ID)
	if err != nil {
		return nil, err
	}
	step, ok := s.matchCode(secret, code)
	if !ok {
		return nil, errs.FieldErrors{"code": "That code is not right. Enter the 6-digit code your app shows now."}.Err()
	}
	_ = s.store.UseTOTPStep(ctx, u.ID, step)
	codes, hashes := s.newRecoveryCodes(u.ID)
	err = s.store.UpdateUser(ctx, u.ID, UserUpdate{
		TOTPSecret: new(u.TOTPPending), TOTPPending: new(""), TOTPEnabled: new(true),
		RecoveryHashes: &hashes, Updated: new(s.Now().UTC()),
	})
	return codes, err
}

// DisableTOTP turns two-factor off for accounts whose roles do not require
// it, with the current password and a code (see Reauth).
func (s *Service) DisableTOTP(ctx context.Context, u *User, r Reauth) error {
	if u.NeedsTwoFactor() {
		return errs.E(errs.ECONFLICT, "Two-factor authentication is required for managers and administrators, so it cannot be turned off.")
	}
	if err := s.Reauthenticate(ctx, u, r); err != nil {
		return err
	}
	return s.store.UpdateUser(ctx, u.ID, UserUpdate{TOTPSecret: new(""), TOTPEnabled: new(false), RecoveryHashes: &[]string{}, Updated: new(s.Now().UTC())})
}

// RegenerateRecoveryCodes replaces the recovery codes, with the current
// password and a code (see Reauth).
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, u *User, r Reauth) ([]string, error) {
	if !u.TOTPEnabled {
		return nil, errs.E(errs.ECONFLICT, "Turn on two-factor authentication first.")
	}
	if err := s.Reauthenticate(ctx, u, r); err != nil {
		return nil, err
	}
	codes, hashes := s.newRecoveryCodes(u.ID)
	return codes, s.store.UpdateUser(ctx, u.ID, UserUpdate{RecoveryHashes: &hashes})
}

// VerifySecondFactor completes a sign-in waiting for a code: a TOTP code
// (each accepted once) or an unused recovery code (then used up).
func (s *Service) VerifySecondFactor(ctx context.Context, sessionID string, u *User, code string) error {
	// The guess takes its attempt before the code is checked (see
	// throttle.go).
	now := s.Now().UTC()
	slots, err := s.takeSlots(ctx, now, slot{key: s.throttleKey("mfa", u.ID), limit: codeLimit})
	if err != nil {
		return err
	}
	code = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), " ", ""))
	ok := false
	if secret, err := s.Box.Open(u.TOTPSecret, totpSecretContext+u.ID); err == nil {
		if step, match := s.matchCode(secret, code); match && s.store.UseTOTPStep(ctx, u.ID, step) == nil {
			ok = true
		}
	}
	if !ok {
		h := s.Box.Hash(recoveryHashPrefix+u.ID, strings.ReplaceAll(code, "-", ""))
		if slices.Contains(u.RecoveryHashes, h) {
			used, err := s.store.UseRecoveryCode(ctx, u.ID, h)
			if err != nil {
				return err
			}
			ok = used // false: a concurrent request used it first
		}
	}
	if !ok {
		return failed(slots, now, errs.FieldErrors{"code": "That code is not right. Enter the 6-digit code from your app, or a recovery code."}.Err())
	}
	_ = s.store.ClearThrottle(ctx, slots[0].key)
	return s.store.ClearMFAPending(ctx, sessionID)
}

// matchCode accepts the code of the current 30-second step or the one either
// side (clock drift) and returns the step it matched.
func (s *Service) matchCode(secret, code string) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	now := s.Now()
	for _, skew := range []int64{0, -1, 1} {
		t := now.Add(time.Duration(skew*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && want == code {
			return t.Unix() / totpPeriod, true
		}
	}
	return 0, false
}

// CurrentCode returns the TOTP code for a secret at time t (tests and demo use).
func CurrentCode(secret string, t time.Time) string {
	c, _ := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	return c
}

// newRecoveryCodes returns codes like "k3f9-2mxq" and their keyed hashes.
func (s *Service) newRecoveryCodes(userID string) (codes, hashes []string) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	for i := 0; i < recoveryCodeCount; i++ {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		var sb strings.Builder
		for j, x := range b {
			if j == 4 {
				sb.WriteByte('-')
			}
			sb.WriteByte(alphabet[int(x)%len(alphabet)])
		}
		c := sb.String()
		codes = append(codes, c)
		hashes = append(hashes, s.Box.Hash(recoveryHashPrefix+userID, strings.ReplaceAll(c, "-", "")))
	}
	return codes, hashes
}
