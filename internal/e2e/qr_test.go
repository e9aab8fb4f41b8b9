package e2e

import (
	"bytes"
	"image"
	_ "image/png"
	"net/url"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/family-advocacy/lms/internal/testenv"
)

// secretFromQR reads the two-factor set-up page's QR code as the browser
// shows it (a screenshot of the image, decoded as an authenticator app
// would) and returns the secret in its otpauth:// address, checking that
// it is the key printed below it for typing.
func secretFromQR(t *testing.T, b *testenv.Browser) string {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(b.ElementPNG(`img[alt^="QR code for setting up"]`)))
	if err != nil {
		t.Fatalf("the QR code is not an image: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the QR code on the page cannot be read: %v", err)
	}
	u, err := url.Parse(res.GetText())
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("the QR code holds %q, want an otpauth://totp/ address", res.GetText())
	}
	secret := u.Query().Get("secret")
	if typed := b.Text("#totp-secret"); secret == "" || secret != typed {
		t.Fatalf("the QR code's secret %q differs from the key shown for typing %q", secret, typed)
	}
	return secret
}
