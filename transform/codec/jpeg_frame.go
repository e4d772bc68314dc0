package codec

import (
	"encoding/binary"
	"fmt"
)

// jpegFrame is what a JPEG's frame header says about the memory of its
// decode: image/jpeg decodes a progressive file through coefficient
// buffers of 4 bytes per component sample, kept until the last scan.
type jpegFrame struct {
	progressive bool
	comps       int
	samples     float64 // component samples per pixel: 1 gray, 1.5 at 4:2:0, 3 at 4:4:4
}

// readJPEGFrame reads the first frame header (SOF0/1/2) of b.
func readJPEGFrame(b []byte) jpegFrame {
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		m := b[i+1]
		if m == 0xFF { // fill byte
			i++
			continue
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if m == 0xDA || m == 0xD9 || n < 2 || i+2+n > len(b) {
			break
		}
		if s := b[i+4 : i+2+n]; (m == 0xC0 || m == 0xC1 || m == 0xC2) && len(s) >= 6 && len(s) >= 6+3*int(s[5]) {
			f := jpegFrame{progressive: m == 0xC2, comps: int(s[5])}
			hmax, vmax := 1, 1
			for k := 0; k < f.comps; k++ {
				hmax, vmax = max(hmax, int(s[7+3*k]>>4)), max(vmax, int(s[7+3*k]&15))
			}
			for k := 0; k < f.comps; k++ {
				f.samples += float64(int(s[7+3*k]>>4)*int(s[7+3*k]&15)) / float64(hmax*vmax)
			}
			return f
		}
		i += 2 + n
	}
	return jpegFrame{}
}

// memoryWeight is how many decoded pixels one pixel of info costs when
// decoded with opt: 1, except for a progressive JPEG that image/jpeg
// decodes at full size (anything but our 1/8 decode, which handles one or
// three components), whose coefficient buffers and YCbCr planes add 1.25
// pixels per component sample (a 4:2:0 file weighs 2.9, a 4:4:4 one 4.8).
func memoryWeight(info Info, opt DecodeOptions) float64 {
	j := info.jpeg
	if info.Format != JPEG || !j.progressive || jpegScale(info, opt) == 8 && (j.comps == 1 || j.comps == 3) {
		return 1
	}
	return 1 + 1.25*j.samples
}

// checkWeighted refuses a decode whose weighted pixels exceed the budget.
func checkWeighted(info Info, opt DecodeOptions) error {
	wt := memoryWeight(info, opt)
	if p := wt * float64(info.Width) * float64(info.Height); wt > 1 && p > float64(opt.maxPixels()) {
		return &LimitError{What: fmt.Sprintf("progressive JPEG (%.1f pixels of memory per pixel at full size)", wt),
			Width: info.Width, Height: info.Height, Pixels: int64(p), Limit: opt.maxPixels()}
	}
	return nil
}
