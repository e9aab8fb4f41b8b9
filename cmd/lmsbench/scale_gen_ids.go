package main

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/family-advocacy/lms/internal/certificates"
)

// The generator draws everything from seeded generators, one per learner
// (so a learner is the same whatever else changes), and makes IDs in the
// formats the services use.

const scaleSeed = 0x5ca1ab1e

// rngFor returns the generator of stream k (a learner's index, or one of
// the fixed streams below).
func rngFor(k uint64) *rand.Rand { return rand.New(rand.NewPCG(scaleSeed, k)) }

// Streams other than the learners' (whose streams are their indexes).
const (
	streamStaff = 1<<40 + iota
	streamFill
	streamSessions
	streamDigests
)

// hexID returns n random bytes in hex: auth.NewID (16), notify.NewID and
// audit event IDs (12).
func hexID(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return hex.EncodeToString(b)
}

// base32Secret returns a TOTP secret (32 base32 characters).
func base32Secret(rng *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, 32)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// certCode returns a certificate code as certificates.NewCode makes them
// (13 random characters and a check character), from rng: the check
// character is the one ParseCode accepts.
func certCode(rng *rand.Rand) string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	raw := make([]byte, 13, 14)
	for i := range raw {
		raw[i] = alphabet[rng.IntN(len(alphabet))]
	}
	for i := 0; i < len(alphabet); i++ {
		if code, err := certificates.ParseCode(string(append(raw, alphabet[i]))); err == nil {
			return code
		}
	}
	panic("lmsbench: no check character fits " + string(raw))
}

// reminderID is the ID the reminder job gives a reminder (reminders.messageID),
// so that the job finds the reminders the generator says it sent.
func reminderID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "rem-" + hex.EncodeToString(h.Sum(nil))[:32]
}

// daysAgo returns the moment d days (fractional) before t.
func daysAgo(t time.Time, d float64) time.Time {
	return t.Add(-time.Duration(d * float64(24*time.Hour))).Truncate(time.Millisecond)
}

// between returns a moment uniformly between a and b.
func between(rng *rand.Rand, a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(rng.Int64N(int64(b.Sub(a))))).Truncate(time.Millisecond)
}

// People's names: common in England, with some that need folding to be
// found (accents, apostrophes, hyphens, several words).
var (
	firstNames = nameList(`Olivia, Amelia, Isla, Ava, Mia, Ivy, Lily, Isabella, Rosie, Sophia, Grace, Freya, Willow,
		Florence, Emily, Ella, Poppy, Evie, Elsie, Charlotte, Evelyn, Sienna, Sofia, Daisy, Phoebe, Sarah, Hannah,
		Jessica, Laura, Rebecca, Rachel, Emma, Claire, Nicola, Joanne, Helen, Karen, Michelle, Lisa, Amanda, Kelly,
		Louise, Gemma, Natalie, Kirsty, Zoë, Siobhán, Aoife, Niamh, Chloé, Renée, Ayşe, Priya, Aisha, Fatima, Amira,
		Maryam, Zainab, Nadia, Leila, Yasmin, Anjali, Oluwaseun, Chidinma, Ngozi, Abena, Keisha, Shanice, Precious,
		Agnieszka, Katarzyna, Magdalena, Joanna, Ewa, Ana María, Mary-Jane, Oliver, George, Noah, Arthur, Leo,
		Muhammad, Harry, Oscar, Archie, Henry, Theodore, Freddie, Jack, Charlie, Thomas, James, William, Daniel,
		David, Michael, Paul, Mark, Richard, Andrew, Stephen, Christopher, Matthew, Robert, Peter, Simon, Gareth,
		Rhys, Dylan, Owen, Ciarán, Seán, Éamon, Tomás, Mohammed, Ahmed, Ali, Omar, Yusuf, Imran, Bilal, Hamza,
		Ravi, Sanjay, Arjun, Kwame, Kofi, Chukwuemeka, Tunde, Jerome, Marcus, Krzysztof, Piotr, Tomasz, Jürgen,
		Søren, Luís, José, Jean-Paul`)
	lastNames = nameList(`Smith, Jones, Taylor, Brown, Williams, Wilson, Johnson, Davies, Patel, Robinson, Wright,
		Thompson, Evans, Walker, White, Roberts, Green, Hall, Thomas, Clarke, Jackson, Wood, Harris, Edwards,
		Turner, Martin, Cooper, Hill, Ward, Hughes, Moore, Clark, King, Harrison, Lewis, Baker, Lee, Allen, Morris,
		Khan, Scott, Watson, Davis, Parker, James, Bennett, Young, Phillips, Richardson, Mitchell, Bailey, Carter,
		Cook, Singh, Shaw, Bell, Collins, Morgan, Kelly, Begum, Miller, Cox, Hussain, Marshall, Simpson, Price,
		Anderson, Adams, Wilkinson, Ali, Ahmed, Foster, Ellis, Murphy, Chapman, Mason, Gray, Richards, Webb,
		Griffiths, Hunt, Palmer, Campbell, Holmes, Mills, Rogers, Barnes, Knight, Matthews, Barker, Powell,
		Stevens, Kaur, Fisher, Butler, Dixon, Russell, Harvey, Pearson, Graham, Fletcher, Howard, Gill, Rahman,
		Okafor, Adeyemi, Mensah, Boateng, Nowak, Kowalski, Wiśniewska, Wójcik, Kowalczyk, O'Brien, O'Connor,
		O'Neill, McCarthy, Ní Bhriain, Ó Súilleabháin, MacDonald, McKenzie, Fraser, Llewellyn, Pritchard,
		Vaughan, Łukasiewicz-Ørsted, Müller, Dubois, Núñez, Yılmaz, Papadopoulos, Ivanova, Nguyen, Chen, Wang,
		Kim, Santos, Ferreira, Rossi, Okonkwo, Hernández García, Da Silva, Van der Berg, De Souza, Al-Rashid,
		El-Amin, Abdi, Osman, Haddad, Cohen, Levy, Smith-Jones, Taylor-Brown`)
)

func nameList(list string) []string {
	var out []string
	for _, n := range strings.Split(list, ",") {
		out = append(out, strings.Join(strings.Fields(n), " "))
	}
	return out
}

// asciiFold lower-cases s without accents and keeps letters and digits,
// for email addresses.
func asciiFold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	var b strings.Builder
	for _, r := range strings.ToLower(out) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == 'ł':
			b.WriteByte('l')
		case r == 'ø':
			b.WriteByte('o')
		case r == 'ı':
			b.WriteByte('i')
		}
	}
	return b.String()
}
