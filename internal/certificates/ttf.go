package certificates

import (
	"encoding/binary"
	"errors"
	"slices"
)

// dropTables returns the TrueType font ttf without the named tables.
func dropTables(ttf []byte, drop ...string) ([]byte, error) {
	if len(ttf) < 12 {
		return nil, errors.New("certificates: font too short")
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	if len(ttf) < 12+16*n {
		return nil, errors.New("certificates: font table directory truncated")
	}
	type table struct {
		rec  []byte
		data []byte
	}
	var keep []table
	for i := 0; i < n; i++ {
		rec := ttf[12+16*i : 28+16*i]
		off, length := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		if int(off)+int(length) > len(ttf) {
			return nil, errors.New("certificates: font table out of range")
		}
		if slices.Contains(drop, string(rec[:4])) {
			continue
		}
		keep = append(keep, table{rec: rec, data: ttf[off : off+length]})
	}
	out := make([]byte, 12+16*len(keep))
	copy(out, ttf[:12])
	binary.BigEndian.PutUint16(out[4:], uint16(len(keep)))
	entry := 1
	for 1<<entry <= len(keep) {
		entry++
	}
	entry--
	binary.BigEndian.PutUint16(out[6:], uint16(16<<entry))
	binary.BigEndian.PutUint16(out[8:], uint16(entry))
	binary.BigEndian.PutUint16(out[10:], uint16(16*len(keep)-16<<entry))
	for i, t := range keep {
		rec := out[12+16*i : 28+16*i]
		copy(rec, t.rec)
		binary.BigEndian.PutUint32(rec[8:], uint32(len(out)))
		out = append(out, t.data...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out, nil
}

// subsetTag returns the six capital letters PDF uses to mark a font subset,
// different for each code page and style.
func subsetTag(key string) string {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = byte('A' + h%26)
		h /= 26
	}
	return string(tag)
}
