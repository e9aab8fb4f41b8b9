package certificates

import (
	"fmt"

	"github.com/boombuler/barcode/qr"
)

// QRCode is an encoded QR code: Size×Size modules, row by row.
type QRCode struct {
	URL     string `bson:"url"`
	Size    int    `bson:"size"`
	Modules []byte `bson:"modules"` // one bit per module, rows packed
}

// EncodeQR encodes url as a QR code (error correction level M).
func EncodeQR(url string) (*QRCode, error) {
	code, err := qr.Encode(url, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("certificates: QR code: %w", err)
	}
	n := code.Bounds().Dx()
	q := &QRCode{URL: url, Size: n, Modules: make([]byte, (n*n+7)/8)}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if r, _, _, _ := code.At(x, y).RGBA(); r < 0x8000 {
				i := y*n + x
				q.Modules[i/8] |= 1 << (i % 8)
			}
		}
	}
	return q, nil
}

// Dark reports whether the module at column x, row y is dark.
func (q *QRCode) Dark(x, y int) bool {
	i := y*q.Size + x
	return q.Modules[i/8]&(1<<(i%8)) != 0
}
