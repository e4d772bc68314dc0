package codec

// JPEGMetadata returns the APP segments of a JPEG that carry IPTC (APP13,
// Photoshop IRB) and XMP (APP1 with Adobe's namespace), each as read
// (marker and payload): what fl_keep_iptc and fl_keep_attribution keep.
// EXIF is not kept: the pixels are already oriented and resized, so its
// orientation and dimensions would lie.
func JPEGMetadata(b []byte) [][]byte {
	var out [][]byte
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return out
		}
		m := b[i+1]
		if m == 0xDA || m == 0xD9 { // start of scan: no metadata after it
			return out
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 || i+2+n > len(b) {
			return out
		}
		seg := b[i : i+2+n]
		payload := seg[4:]
		if m == 0xED || m == 0xE1 && len(payload) >= 29 && string(payload[:29]) == "http://ns.adobe.com/xap/1.0/\x00" {
			out = append(out, seg)
		}
		i += 2 + n
	}
	return out
}

// insertSegments puts segments into an encoded JPEG after its SOI and,
// when there is one, its JFIF APP0 (which must come first).
func insertSegments(jpg []byte, segs [][]byte) []byte {
	at := 2
	if len(jpg) > 6 && jpg[2] == 0xFF && jpg[3] == 0xE0 {
		at += 2 + (int(jpg[4])<<8 | int(jpg[5]))
	}
	out := make([]byte, 0, len(jpg)+256)
	out = append(out, jpg[:at]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[at:]...)
}
