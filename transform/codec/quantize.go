package codec

import (
	"image"
	"image/color"
	"image/draw"
	"sort"
)

// quantize maps m to a palette of at most n colours chosen by median cut
// over up to 65536 of its pixels (colour and alpha), with Floyd–Steinberg
// dithering when asked. Pixels with alpha below 128 map to a transparent
// entry when the image has any.
func quantize(m *image.NRGBA, n int, dither bool) *image.Paletted {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	step := max(W*H/65536, 1)
	var samples [][4]uint8
	transparent := false
	for i := 0; i < W*H; i += step {
		p := m.Pix[m.PixOffset(m.Rect.Min.X+i%W, m.Rect.Min.Y+i/W):]
		if p[3] < 128 {
			transparent = true
			continue
		}
		samples = append(samples, [4]uint8{p[0], p[1], p[2], p[3]})
	}
	pal := color.Palette{}
	if transparent {
		pal = append(pal, color.NRGBA{})
		n--
	}
	for _, c := range medianCut(samples, max(n, 1)) {
		pal = append(pal, c)
	}
	if len(pal) == 0 {
		pal = append(pal, color.NRGBA{})
	}
	p := image.NewPaletted(m.Rect, pal)
	if dither {
		draw.FloydSteinberg.Draw(p, m.Rect, m, m.Rect.Min)
	} else {
		cache := map[color.NRGBA]uint8{}
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				o := m.PixOffset(m.Rect.Min.X+x, m.Rect.Min.Y+y)
				c := color.NRGBA{m.Pix[o], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3]}
				k, ok := cache[c]
				if !ok {
					k = uint8(pal.Index(c))
					cache[c] = k
				}
				p.Pix[y*p.Stride+x] = k
			}
		}
	}
	if transparent {
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				if m.Pix[m.PixOffset(m.Rect.Min.X+x, m.Rect.Min.Y+y)+3] < 128 {
					p.Pix[y*p.Stride+x] = 0
				}
			}
		}
	}
	return p
}

// medianCut splits the samples into at most n boxes, each time halving at
// its median the box with the widest channel range, and returns each
// box's mean colour.
func medianCut(samples [][4]uint8, n int) []color.NRGBA {
	if len(samples) == 0 {
		return nil
	}
	boxes := [][][4]uint8{samples}
	for len(boxes) < n {
		bi, bc, br := -1, 0, 0
		for i, b := range boxes {
			if len(b) < 2 {
				continue
			}
			for c := 0; c < 4; c++ {
				lo, hi := uint8(255), uint8(0)
				for _, s := range b {
					lo, hi = min(lo, s[c]), max(hi, s[c])
				}
				if r := int(hi) - int(lo); r > br {
					bi, bc, br = i, c, r
				}
			}
		}
		if bi < 0 {
			break
		}
		b := boxes[bi]
		sort.Slice(b, func(i, j int) bool { return b[i][bc] < b[j][bc] })
		boxes[bi], boxes = b[:len(b)/2], append(boxes, b[len(b)/2:])
	}
	out := make([]color.NRGBA, 0, len(boxes))
	for _, b := range boxes {
		var sum [4]int
		for _, s := range b {
			for c := 0; c < 4; c++ {
				sum[c] += int(s[c])
			}
		}
		k := len(b)
		out = append(out, color.NRGBA{uint8(sum[0] / k), uint8(sum[1] / k), uint8(sum[2] / k), uint8(sum[3] / k)})
	}
	return out
}
