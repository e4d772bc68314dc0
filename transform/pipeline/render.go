package pipeline

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/draw"
	"maps"
	"slices"
	"strings"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

// DefaultMaxOutputPixels bounds any intermediate or final image, all its
// frames together (50 MP).
const DefaultMaxOutputPixels = 50_000_000

// Limits bound the work one request may cause.
type Limits struct {
	MaxPixels       int64 // the decode: frames held × pixels; 0: codec.DefaultMaxPixels
	MaxOutputPixels int64 // any produced image, frames × pixels; 0: DefaultMaxOutputPixels
	// Ctx bounds the render in time: it is checked between steps, between
	// frames and every few rows of long loops (decoders, blur, sharpen,
	// resize), and once done stops the render with a *codec.CanceledError
	// (errors.Is(err, context.DeadlineExceeded) or context.Canceled).
	// Nil: no deadline.
	Ctx context.Context
}

// decode is the budget of a decode, and of an encoder's memory.
func (l Limits) decode() int64 {
	if l.MaxPixels > 0 {
		return l.MaxPixels
	}
	return codec.DefaultMaxPixels
}

func (l Limits) output() int64 {
	if l.MaxOutputPixels > 0 {
		return l.MaxOutputPixels
	}
	return DefaultMaxOutputPixels
}

// Request is one rendering job.
type Request struct {
	Chain       grammar.Chain // expanded (no t_) and without plugin steps
	Format      string        // "", "auto" or a format name; "" keeps the source's
	AcceptClass string        // grammar.AcceptClass of the client, for f_auto
	Limits      Limits
	Env         Env // overlays and the facts if_ conditions test
}

// Env is what a chain may need besides its pixels: a loader for l_
// overlays (nil refuses them) and the asset's facts that conditions and
// expressions read (tags, contextual metadata as ctx:!key!, page count).
type Env struct {
	Layers  Layers
	Tags    []string
	Context map[string]string
	Pages   int
}

// Result is an encoded derived image.
type Result struct {
	Data          []byte
	Format        codec.Format
	Width, Height int
	Frames        int
}

// Render decodes src, runs the chain and encodes the result.
func Render(src []byte, req Request) (*Result, error) {
	img, lw, lh, err := load(src, req.Chain, req.Format, req.Limits, req.Env)
	if err != nil {
		return nil, err
	}
	img, done, err := run(img, req.Chain, lw, lh, req.Limits, req.Env, nil)
	if err != nil {
		return nil, err
	}
	if done.breakpoints != nil { // w_auto:breakpoints:json
		return breakpointsJSON(done.breakpoints)
	}
	// What is encoded follows the components that ran, as resolved (a q_
	// in a branch not taken does not apply; q_$q has its value).
	req.Chain = done.chain
	budget := codec.MemoryBudget(req.Limits.decode())
	if _, ok := req.Chain.Flag("getinfo"); ok {
		return getInfo(src, img, req, budget)
	}
	var segs [][]byte
	if keepMetadata(req.Chain) {
		segs = codec.JPEGMetadata(src)
	}
	return encodeWith(req.Limits.Ctx, img, req.Chain, req.Format, req.AcceptClass, budget, segs)
}

// Apply runs the chain on a decoded image. lw×lh is the source's logical
// size: the frames may be smaller when a reduced decode was used. A chain
// with image overlays needs ApplyWith.
func Apply(img *codec.Image, ch grammar.Chain, lw, lh int, l Limits) (*codec.Image, error) {
	return ApplyWith(img, ch, lw, lh, l, Env{})
}

// ApplyWith is Apply with an Env: overlays (l_) loaded through its Layers,
// if_ conditions and expressions evaluated against its facts. Each
// component's output, all frames together, is checked against
// MaxOutputPixels before it is allocated.
func ApplyWith(img *codec.Image, ch grammar.Chain, lw, lh int, l Limits, env Env) (*codec.Image, error) {
	img, _, err := run(img, ch, lw, lh, l, env, nil)
	return img, err
}

// ran is what a run did: the components that ran, resolved, and the
// breakpoints w_auto:breakpoints:json asked for (the run stops there).
type ran struct {
	chain       grammar.Chain
	breakpoints []int
}

// run is ApplyWith that starts with the user variables vars (a layer's
// steps see its base chain's) and also says what ran.
func run(img *codec.Image, ch grammar.Chain, lw, lh int, l Limits, env Env, vars map[string]grammar.Value) (*codec.Image, ran, error) {
	frames := img.Frames
	iw, ih := lw, lh
	var branches []bool // per open if_: whether its branch is taken
	active := func() bool { return !slices.Contains(branches, false) }
	scope := grammar.Values{IW: float64(iw), IH: float64(ih), Pages: float64(max(env.Pages, 1)), Page: 1,
		Tags: env.Tags, Context: env.Context, Vars: maps.Clone(vars)}
	if scope.Vars == nil {
		scope.Vars = map[string]grammar.Value{}
	}
	var done ran
	for i := 0; i < len(ch); i++ {
		if err := codec.CheckContext(l.Ctx); err != nil {
			return nil, ran{}, err
		}
		c := ch[i]
		scope.W, scope.H = float64(lw), float64(lh)
		switch {
		case c.IfEnd || c.IfElse:
			if len(branches) == 0 {
				return nil, ran{}, &grammar.Error{Msg: "if_else or if_end without if_"}
			}
			if c.IfEnd {
				branches = branches[:len(branches)-1]
			} else {
				branches[len(branches)-1] = !branches[len(branches)-1]
			}
			continue
		case !active():
			if c.IsBranch() {
				branches = append(branches, false) // nested in a branch not taken
			}
			continue
		case c.IsBranch():
			ok, err := c.If.Holds(scope)
			if err != nil {
				return nil, ran{}, err
			}
			branches = append(branches, ok)
			continue
		case c.If != nil:
			if ok, err := c.If.Holds(scope); err != nil || !ok {
				if err != nil {
					return nil, ran{}, err
				}
				continue
			}
		}
		if err := assign(c, scope); err != nil {
			return nil, ran{}, err
		}
		if c.Overlay != "" {
			var err error
			end := i
			if frames, end, err = overlay(frames, ch, i, l, env, scope); err != nil {
				return nil, ran{}, err
			}
			done.chain, i = append(done.chain, ch[i:end+1]...), end
			b := frames[0].Rect
			lw, lh = b.Dx(), b.Dy()
			continue
		}
		if c.Plugin != "" {
			return nil, ran{}, errors.New("pipeline: plugin steps must be split off before Apply")
		}
		if len(c.Named) > 0 {
			return nil, ran{}, &grammar.Error{Msg: "Unknown transformation " + c.Named[0]}
		}
		c, err := c.Resolved(scope)
		if err != nil {
			return nil, ran{}, err
		}
		if a := c.AutoWidth; a != nil && a.Breakpoints {
			bps, err := breakpoints(l.Ctx, frames[0], a, quality(ch))
			if err != nil {
				return nil, ran{}, err
			}
			if a.JSON {
				done.breakpoints = bps
				break
			}
			r := *c
			r.Width, r.AutoWidth = grammar.Dim{Value: float64(breakpointWidth(bps, a.Fallback)), Set: true}, nil
			c = &r
		}
		done.chain = append(done.chain, c)
		var rotated bool
		frames, rotated = applyAutoRotate(frames, c, lw, lh)
		if rotated {
			lw, lh = lh, lw
		}
		w, h := lw, lh
		if hasResize(c) {
			w, h = planSize(planResize(c, lw, lh))
		}
		w, h = grownSize(c, w, h) // rotation, border, shadow and outline enlarge the resized frames
		if err := codec.CheckFrames("output", len(frames), w, h, l.output()); err != nil {
			return nil, ran{}, err
		}
		if hasResize(c) {
			if frames, err = applyResize(l.Ctx, frames, c, lw, lh); err != nil {
				return nil, ran{}, err
			}
		}
		for j, f := range frames {
			m, err := applyComponent(l.Ctx, f, c)
			if err != nil {
				return nil, ran{}, err
			}
			frames[j] = m
		}
		b := frames[0].Rect
		if err := codec.CheckFrames("output", len(frames), b.Dx(), b.Dy(), l.output()); err != nil {
			return nil, ran{}, err
		}
		lw, lh = b.Dx(), b.Dy()
	}
	img.Frames = frames
	return img, done, nil
}

// quality is the chain's last literal q_ value, or 80: what
// w_auto:breakpoints measures file sizes at.
func quality(ch grammar.Chain) int {
	q := 80
	for _, c := range ch {
		if c.Quality != nil && c.Quality.Value > 0 && !c.Deferred("q") {
			q = c.Quality.Value
		}
	}
	return q
}

// assign evaluates the component's variable assignments, in order, into
// scope.Vars.
func assign(c *grammar.Component, scope grammar.Values) error {
	for _, a := range c.Assigns {
		v, err := a.Value.Eval(scope)
		if err != nil {
			return err
		}
		scope.Vars[a.Name] = v
	}
	return nil
}

// applyComponent runs the non-geometric steps of a component on one frame,
// in Cloudinary's order: effect, radius, angle, border, opacity, background.
func applyComponent(ctx context.Context, m *image.NRGBA, c *grammar.Component) (*image.NRGBA, error) {
	if err := codec.CheckContext(ctx); err != nil {
		return nil, err
	}
	if c.Effect != nil {
		var err error
		if m, err = applyEffect(ctx, m, c); err != nil {
			return nil, err
		}
	}
	if c.Radius != nil {
		m = applyRadius(m, c.Radius)
	}
	if len(c.Angles) > 0 {
		m = applyAngles(m, c.Angles)
	}
	if c.Border != nil {
		m = applyBorder(m, c.Border)
	}
	if c.HasOpacity {
		m = applyOpacity(m, c.Opacity)
	}
	switch {
	case isPad(c.Crop):
	case c.Background != nil:
		m = applyBackground(m, c.Background.NRGBA)
	case c.AutoBG != nil: // outside a pad: fills transparency with the chosen colour
		m = draw2(autoBackground(m, c.AutoBG, m.Rect.Dx(), m.Rect.Dy()), m)
	}
	return m, nil
}

func isPad(mode string) bool {
	return mode == "pad" || mode == "lpad" || mode == "mpad" || mode == "fill_pad"
}

// draw2 draws m over bg (same size) and returns bg.
func draw2(bg, m *image.NRGBA) *image.NRGBA {
	draw.Draw(bg, bg.Rect, m, m.Rect.Min, draw.Over)
	return bg
}

// Encode picks the output format (f_auto, explicit, or the source's) and
// quality, and encodes img. The encoder's memory must fit the default
// memory budget (codec.MemoryBudget of codec.DefaultMaxPixels; see
// codec.EncodeCost): f_auto steps down to a cheaper format, an explicit
// format is refused.
func Encode(img *codec.Image, ch grammar.Chain, format, acceptClass string) (*Result, error) {
	return encode(context.Background(), img, ch, format, acceptClass, codec.MemoryBudget(codec.DefaultMaxPixels))
}

// encode is Encode with a budget for the encoder's memory, stopping
// between frames once ctx is done.
func encode(ctx context.Context, img *codec.Image, ch grammar.Chain, format, acceptClass string, budget int64) (*Result, error) {
	return encodeWith(ctx, img, ch, format, acceptClass, budget, nil)
}

// outputFormat is the format a render is written in: f_auto's choice
// (within the encoder budget; JPEG, or PNG for transparency, when metadata
// is kept), the requested one, or the source's.
func outputFormat(img *codec.Image, ch grammar.Chain, format, acceptClass string, budget int64) (codec.Format, error) {
	var f codec.Format
	b := img.Bounds()
	switch format {
	case "auto":
		alpha := img.HasAlpha()
		if keepMetadata(ch) {
			acceptClass = "" // only JPEG carries the kept metadata
		}
		for class := acceptClass; ; {
			f = Negotiate(class, img.Animated(), alpha)
			if codec.CheckEncode(f, b.Dx(), b.Dy(), budget) == nil {
				break
			}
			class = strings.ReplaceAll(class, string(f), "") // too costly at this size: the next choice
		}
	case "":
		f = img.Format
	default:
		var ok bool
		if f, ok = codec.ParseFormat(format); !ok {
			return "", &grammar.Error{Msg: "Invalid format: " + format}
		}
	}
	switch {
	case f == codec.PDF:
		return "", &grammar.Error{Msg: "PDF output is not supported: deliver pages as images, e.g. pg_2/name.png"}
	case f == codec.ICO && (b.Dx() > codec.MaxICOSize || b.Dy() > codec.MaxICOSize):
		return "", &grammar.Error{Msg: "ICO output is at most 256x256 pixels: resize first, e.g. c_fit,w_256,h_256"}
	case keepMetadata(ch) && f != codec.JPEG && img.Format == codec.JPEG:
		return "", &grammar.Error{Msg: "fl_keep_iptc and fl_keep_attribution keep metadata in JPEG output only: use f_jpg or f_auto"}
	}
	return f, nil
}

// keepMetadata reports whether the chain asks to keep IPTC and XMP.
func keepMetadata(ch grammar.Chain) bool {
	_, iptc := ch.Flag("keep_iptc")
	_, attr := ch.Flag("keep_attribution")
	return iptc || attr
}

// encodeWith is encode writing segs (kept metadata) into JPEG output.
func encodeWith(ctx context.Context, img *codec.Image, ch grammar.Chain, format, acceptClass string, budget int64, segs [][]byte) (*Result, error) {
	b := img.Bounds()
	f, err := outputFormat(img, ch, format, acceptClass, budget)
	if err != nil {
		return nil, err
	}
	if d := ch.Delay(); d > 0 {
		for i := range img.Delays {
			img.Delays[i] = d
		}
	}
	if !f.CanAnimate() && img.Animated() {
		img.Frames, img.Delays = img.Frames[:1], img.Delays[:1]
	}
	opt := codec.EncodeOptions{Ctx: ctx}
	if q := ch.Quality(); q != nil {
		if q.Auto != "" {
			opt.Quality = AutoQuality(q.Auto, f, img.Frames[0])
		} else {
			opt.Quality = q.Value
		}
	}
	_, opt.Progressive = ch.Flag("progressive")
	_, opt.Lossless = ch.Flag("lossless")
	_, lossy := ch.Flag("lossy")
	_, png8 := ch.Flag("png8")
	opt.Lossless = opt.Lossless && !lossy
	opt.PNG8 = png8 || lossy && f == codec.PNG
	opt.LossyGIF = lossy && f == codec.GIF
	if q := ch.Quality(); q != nil && q.Chroma == "444" {
		opt.Chroma444 = true
	}
	if f == codec.JPEG {
		opt.JPEGSegments = segs
	}
	for _, c := range ch {
		if c.Background != nil {
			opt.Background = c.Background.NRGBA
		}
	}
	if err := codec.CheckEncode(f, b.Dx(), b.Dy(), budget); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := codec.Encode(&buf, img, f, opt); err != nil {
		return nil, err
	}
	return &Result{Data: buf.Bytes(), Format: f, Width: b.Dx(), Height: b.Dy(), Frames: len(img.Frames)}, nil
}
