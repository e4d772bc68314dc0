package codec

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// PDFDensity is the resolution PDF pages are rasterised at (Cloudinary's
// default density), in dots per inch.
const PDFDensity = 150

// PDFCacheDir is where PDFium's compiled WebAssembly is cached (a warm
// start takes ~0.1 s instead of ~5 s). Set it before the first PDF is
// read; empty means a folder in the system's temporary directory.
var PDFCacheDir string

var pdf struct {
	once sync.Once
	pool pdfium.Pool
	err  error
}

// pdfInstance returns a PDFium instance (close it after use). PDFium runs
// in wazero with no filesystem mounted; documents are opened from bytes.
func pdfInstance() (pdfium.Pdfium, error) {
	pdf.once.Do(func() {
		dir := PDFCacheDir
		if dir == "" {
			dir = filepath.Join(os.TempDir(), "edgepix-pdfium-cache")
		}
		rc := wazero.NewRuntimeConfig().WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling)
		if err := os.MkdirAll(dir, 0o755); err == nil {
			if cache, err := wazero.NewCompilationCacheWithDir(dir); err == nil {
				rc = rc.WithCompilationCache(cache)
			}
		}
		pdf.pool, pdf.err = webassembly.Init(webassembly.Config{Context: context.Background(), MinIdle: 0, MaxIdle: 2,
			MaxTotal: 2, FSConfig: wazero.NewFSConfig(), RuntimeConfig: rc, Stdout: io.Discard, Stderr: io.Discard})
	})
	if pdf.err != nil {
		return nil, fmt.Errorf("pdfium: %w", pdf.err)
	}
	return pdf.pool.GetInstance(time.Minute)
}

// withPDF opens b and runs f on it.
func withPDF(b []byte, f func(inst pdfium.Pdfium, doc *requests.OpenDocument, d requests.Page) error) error {
	inst, err := pdfInstance()
	if err != nil {
		return err
	}
	defer inst.Close()
	req := &requests.OpenDocument{File: &b}
	doc, err := inst.OpenDocument(req)
	if err != nil {
		return &DecodeError{Format: PDF, Err: err}
	}
	defer inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc.Document})
	return f(inst, req, requests.Page{ByIndex: &requests.PageByIndex{Document: doc.Document}})
}

// probePDF reads the page count and the first page's size at PDFDensity.
func probePDF(b []byte) (Info, error) {
	info := Info{Format: PDF, Orientation: 1, Frames: 1}
	err := withPDF(b, func(inst pdfium.Pdfium, _ *requests.OpenDocument, p requests.Page) error {
		n, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: p.ByIndex.Document})
		if err != nil {
			return &DecodeError{Format: PDF, Err: err}
		}
		if n.PageCount < 1 {
			return &DecodeError{Format: PDF, Err: errors.New("no pages")}
		}
		size, err := inst.FPDF_GetPageSizeByIndex(&requests.FPDF_GetPageSizeByIndex{Document: p.ByIndex.Document})
		if err != nil {
			return &DecodeError{Format: PDF, Err: err}
		}
		info.Pages = n.PageCount
		info.Width, info.Height = pts(size.Width, PDFDensity), pts(size.Height, PDFDensity)
		return nil
	})
	return info, err
}

func pts(v float64, dpi float64) int { return max(int(v*dpi/72+1e-9), 1) }

// pdfDPI is the density a page of wPt×hPt points is rasterised at:
// PDFDensity, lowered so that the page fits opt's MaxPixels (a huge page
// is rendered smaller, not refused) and, when MinWidth/MinHeight are set,
// to what they need (18 dpi at least).
func pdfDPI(wPt, hPt float64, opt DecodeOptions) float64 {
	dpi := float64(PDFDensity)
	if w, h := wPt*dpi/72, hPt*dpi/72; w*h > float64(opt.maxPixels()) {
		dpi *= math.Sqrt(float64(opt.maxPixels()) / (w * h))
	}
	if opt.MinWidth > 0 || opt.MinHeight > 0 {
		need := max(float64(opt.MinWidth)*72/wPt, float64(opt.MinHeight)*72/hPt)
		dpi = min(dpi, max(need, 18))
	}
	return dpi
}

// decodePDF rasterises one page (opt.Page, default 1) at pdfDPI.
func decodePDF(b []byte, opt DecodeOptions) (*Image, error) {
	page := max(opt.Page, 1)
	var out *image.NRGBA
	err := withPDF(b, func(inst pdfium.Pdfium, _ *requests.OpenDocument, p requests.Page) error {
		n, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: p.ByIndex.Document})
		if err != nil {
			return &DecodeError{Format: PDF, Err: err}
		}
		if page > n.PageCount {
			return &PageError{Page: page, Pages: n.PageCount}
		}
		size, err := inst.FPDF_GetPageSizeByIndex(&requests.FPDF_GetPageSizeByIndex{Document: p.ByIndex.Document, Index: page - 1})
		if err != nil {
			return &DecodeError{Format: PDF, Err: err}
		}
		dpi := pdfDPI(size.Width, size.Height, opt)
		w, h := pts(size.Width, dpi), pts(size.Height, dpi)
		if err := CheckPixels("page", w, h, opt.maxPixels()); err != nil {
			return err // rounding must not take a page over the limit
		}
		if err := CheckContext(opt.Ctx); err != nil {
			return err
		}
		p.ByIndex.Index = page - 1
		r, err := inst.RenderPageInPixels(&requests.RenderPageInPixels{Page: p, Width: w, Height: h})
		if err != nil {
			return &DecodeError{Format: PDF, Err: err}
		}
		defer r.Cleanup()
		src := r.Result.RenderedImage
		out = image.NewNRGBA(src.Bounds())
		draw.Draw(out, out.Rect, src, src.Bounds().Min, draw.Src) // copy: the buffer dies with Cleanup
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Image{Frames: []*image.NRGBA{out}, Delays: []int{0}, Format: PDF}, nil
}
