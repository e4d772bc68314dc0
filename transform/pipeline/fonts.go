package pipeline

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/gomonobolditalic"
	"golang.org/x/image/font/gofont/gomonoitalic"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
)

// FontDirs are searched for the font files of text overlays' families
// (Debian's fonts-* packages install there); the Go fonts stand in for
// what is not found.
var FontDirs = []string{"/usr/share/fonts", "/usr/local/share/fonts"}

// fontFamilies maps a family, lower-cased without spaces, dashes or
// underscores, to candidate file names for regular, bold, italic and bold
// italic, best first: metric-compatible Liberation fonts for the common
// web families, then DejaVu.
var fontFamilies = map[string][4][]string{
	"sans": {
		{"LiberationSans-Regular.ttf", "DejaVuSans.ttf"}, {"LiberationSans-Bold.ttf", "DejaVuSans-Bold.ttf"},
		{"LiberationSans-Italic.ttf", "DejaVuSans-Oblique.ttf"}, {"LiberationSans-BoldItalic.ttf", "DejaVuSans-BoldOblique.ttf"}},
	"serif": {
		{"LiberationSerif-Regular.ttf", "DejaVuSerif.ttf"}, {"LiberationSerif-Bold.ttf", "DejaVuSerif-Bold.ttf"},
		{"LiberationSerif-Italic.ttf", "DejaVuSerif-Italic.ttf"}, {"LiberationSerif-BoldItalic.ttf", "DejaVuSerif-BoldItalic.ttf"}},
	"mono": {
		{"LiberationMono-Regular.ttf", "DejaVuSansMono.ttf"}, {"LiberationMono-Bold.ttf", "DejaVuSansMono-Bold.ttf"},
		{"LiberationMono-Italic.ttf", "DejaVuSansMono-Oblique.ttf"}, {"LiberationMono-BoldItalic.ttf", "DejaVuSansMono-BoldOblique.ttf"}},
	"dejavusans":  {{"DejaVuSans.ttf"}, {"DejaVuSans-Bold.ttf"}, {"DejaVuSans-Oblique.ttf"}, {"DejaVuSans-BoldOblique.ttf"}},
	"dejavuserif": {{"DejaVuSerif.ttf"}, {"DejaVuSerif-Bold.ttf"}, {"DejaVuSerif-Italic.ttf"}, {"DejaVuSerif-BoldItalic.ttf"}},
	"dejavusansmono": {{"DejaVuSansMono.ttf"}, {"DejaVuSansMono-Bold.ttf"}, {"DejaVuSansMono-Oblique.ttf"},
		{"DejaVuSansMono-BoldOblique.ttf"}},
	"roboto":   {{"Roboto-Regular.ttf"}, {"Roboto-Bold.ttf"}, {"Roboto-Italic.ttf"}, {"Roboto-BoldItalic.ttf"}},
	"opensans": {{"OpenSans-Regular.ttf"}, {"OpenSans-Bold.ttf"}, {"OpenSans-Italic.ttf"}, {"OpenSans-BoldItalic.ttf"}},
	"lato":     {{"Lato-Regular.ttf"}, {"Lato-Bold.ttf"}, {"Lato-Italic.ttf"}, {"Lato-BoldItalic.ttf"}},
	"notosans": {{"NotoSans-Regular.ttf"}, {"NotoSans-Bold.ttf"}, {"NotoSans-Italic.ttf"}, {"NotoSans-BoldItalic.ttf"}},
	"notoserif": {{"NotoSerif-Regular.ttf"}, {"NotoSerif-Bold.ttf"}, {"NotoSerif-Italic.ttf"},
		{"NotoSerif-BoldItalic.ttf"}},
}

// familyAliases send web families to the generic ones above.
var familyAliases = map[string]string{
	"arial": "sans", "helvetica": "sans", "liberationsans": "sans", "verdana": "sans", "tahoma": "sans",
	"sansserif": "sans", "trebuchet": "sans", "trebuchetms": "sans",
	"times": "serif", "timesnewroman": "serif", "liberationserif": "serif", "georgia": "serif",
	"courier": "mono", "couriernew": "mono", "liberationmono": "mono", "monospace": "mono", "consolas": "mono",
	"menlo": "mono", "monaco": "mono",
}

var (
	fontIndexOnce sync.Once
	fontIndex     map[string]string // lower-case file name → path
	fontCache     sync.Map          // path → *opentype.Font
)

// familyKey normalises a family name (Open%20Sans, open_sans, OpenSans).
func familyKey(family string) string {
	return strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.ToLower(family))
}

// findFont returns the font for a family and style: a system font file
// when the family is known and installed, else the Go font of that style
// (monospace for monospace families). It reports whether a system font
// was used.
func findFont(family string, bold, italic bool) (*opentype.Font, bool, error) {
	key := familyKey(family)
	if a, ok := familyAliases[key]; ok {
		key = a
	}
	style := 0
	if bold {
		style |= 1
	}
	if italic {
		style |= 2
	}
	if cands, ok := fontFamilies[key]; ok {
		fontIndexOnce.Do(indexFonts)
		for _, name := range cands[style] {
			if path, ok := fontIndex[strings.ToLower(name)]; ok {
				if f, err := loadFont(path); err == nil {
					return f, true, nil
				}
			}
		}
	}
	mono := key == "mono" || strings.Contains(key, "mono") || strings.Contains(key, "courier")
	ttf := [4][]byte{goregular.TTF, gobold.TTF, goitalic.TTF, gobolditalic.TTF}
	if mono {
		ttf = [4][]byte{gomono.TTF, gomonobold.TTF, gomonoitalic.TTF, gomonobolditalic.TTF}
	}
	f, err := parseCached("go:"+strconv.Itoa(style)+map[bool]string{true: "m", false: ""}[mono], ttf[style])
	return f, false, err
}

func indexFonts() {
	fontIndex = map[string]string{}
	for _, dir := range FontDirs {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if n := strings.ToLower(d.Name()); strings.HasSuffix(n, ".ttf") || strings.HasSuffix(n, ".otf") {
					if _, seen := fontIndex[n]; !seen {
						fontIndex[n] = p
					}
				}
			}
			return nil
		})
	}
}

func loadFont(path string) (*opentype.Font, error) {
	if f, ok := fontCache.Load(path); ok {
		return f.(*opentype.Font), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseCached(path, b)
}

func parseCached(key string, b []byte) (*opentype.Font, error) {
	if f, ok := fontCache.Load(key); ok {
		return f.(*opentype.Font), nil
	}
	f, err := opentype.Parse(b)
	if err != nil {
		return nil, err
	}
	fontCache.Store(key, f)
	return f, nil
}
