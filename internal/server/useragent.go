package server

import (
	"regexp"
	"strings"
)

// browserOf names the browser and system of a User-Agent header in words
// ("Chrome 131 on Windows"), for the list of a person's sessions; anything
// it does not recognise is shown as "Unknown browser".
func browserOf(ua string) string {
	browser := ""
	for _, b := range []struct{ name, token string }{
		// Order matters: Edge and Opera also say Chrome; Chrome also says Safari.
		{"Edge", "Edg/"}, {"Opera", "OPR/"}, {"Samsung Internet", "SamsungBrowser/"}, {"Firefox", "Firefox/"},
		{"Firefox", "FxiOS/"}, {"Chrome", "CriOS/"}, {"Chrome", "HeadlessChrome/"}, {"Chrome", "Chrome/"}, {"Safari", "Version/"},
	} {
		if m := versionAfter(ua, b.token); m != "" {
			browser = b.name + " " + m
			break
		}
	}
	if browser == "" || (strings.HasPrefix(browser, "Safari") && !strings.Contains(ua, "Safari/")) {
		return "Unknown browser"
	}
	system := ""
	switch {
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad"):
		system = "iOS"
	case strings.Contains(ua, "Android"):
		system = "Android"
	case strings.Contains(ua, "Windows"):
		system = "Windows"
	case strings.Contains(ua, "Mac OS X") || strings.Contains(ua, "Macintosh"):
		system = "macOS"
	case strings.Contains(ua, "CrOS"):
		system = "ChromeOS"
	case strings.Contains(ua, "Linux"):
		system = "Linux"
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}

var majorVersion = regexp.MustCompile(`^(\d+)`)

// versionAfter returns the major version that follows token in ua, or "".
func versionAfter(ua, token string) string {
	_, rest, ok := strings.Cut(ua, token)
	if !ok {
		return ""
	}
	return majorVersion.FindString(rest)
}
