package backup

import "testing"

func TestObjectKeysCannotLeaveTheBackup(t *testing.T) {
	for key, ok := range map[string]bool{
		"certificates/ABCD-1234.pdf": true,
		"dbs-scans/a/b.png":          true,
		"../secret.key":              false,
		"certificates/../../x":       false,
		"/etc/passwd":                false,
		`certificates\..\x`:          false,
		"":                           false,
		"a//b":                       false,
	} {
		if _, err := objectPath("/backup/objects", key); (err == nil) != ok {
			t.Errorf("objectPath(%q): err %v, want allowed %v", key, err, ok)
		}
	}
}
