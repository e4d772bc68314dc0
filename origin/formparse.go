package origin

import (
	"bufio"
	"errors"
	"io"
	"mime/multipart"
	"net/url"
	"strings"
)

// fieldBudget counts the bytes of a form's parameters but file.
type fieldBudget struct{ used, max int64 }

// take counts n more bytes, failing (413) beyond max.
func (b *fieldBudget) take(n int) error {
	if b.used += int64(n); b.used > b.max {
		return tooLarge("Request parameters", b.max)
	}
	return nil
}

// newSpool starts the file parameter's spool.
func (lim formLimits) newSpool() *spool {
	return &spool{dir: lim.dir, limit: lim.file}
}

// keepFile stores a streamed file parameter: a file part stays spooled
// until load; a text value (a URL or a data URI) becomes a parameter at
// once when it fit in memory.
func (f *form) keepFile(sp *spool, filename string, isFile bool) {
	switch {
	case isFile:
		f.hasFile, f.filename, f.pending = true, filename, sp
	case sp.onDisk():
		f.pending = sp
	default:
		f.params.Add("file", string(sp.buf))
		sp.Close()
	}
}

// readMultipart parses a multipart/form-data body part by part. The first
// part named file is streamed into a spool; the others are read within
// the field budget (a file part under another name is read and dropped).
func (f *form) readMultipart(r io.Reader, boundary string, lim formLimits) error {
	if boundary == "" {
		return errors.New("multipart body without a boundary")
	}
	mr := multipart.NewReader(r, boundary)
	budget := &fieldBudget{max: lim.fields}
	for n := 0; ; n++ {
		if n == maxParts {
			return &limitError{413, "Too many parts in the request body"}
		}
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return unwrapLimit(err)
		}
		name := p.FormName()
		if name == "file" && f.pending == nil && !f.hasFile && f.params["file"] == nil {
			sp := lim.newSpool()
			if _, err := io.Copy(sp, p); err != nil {
				sp.Close()
				return unwrapLimit(err)
			}
			f.keepFile(sp, p.FileName(), p.FileName() != "")
			continue
		}
		if err := budget.take(len(name)); err != nil {
			return err
		}
		v, err := io.ReadAll(io.LimitReader(p, budget.max-budget.used+1))
		if err != nil {
			return unwrapLimit(err)
		}
		if err := budget.take(len(v)); err != nil {
			return err
		}
		if p.FileName() == "" {
			f.params.Add(name, string(v))
		}
	}
}

// unwrapLimit returns the limitError inside err, if any (the multipart
// reader wraps what the body reader returned).
func unwrapLimit(err error) error {
	var le *limitError
	if errors.As(err, &le) {
		return le
	}
	return err
}

// readURLEncoded parses name=value pairs separated by & as they arrive.
// The value of file is unescaped into a spool; every other pair counts
// against the field budget and is unescaped as url.ParseQuery does.
func (f *form) readURLEncoded(r io.Reader, lim formLimits) error {
	br := bufio.NewReaderSize(r, 16<<10)
	budget := &fieldBudget{max: lim.fields}
	for {
		rawKey, hasValue, end, err := readKey(br, budget)
		if err != nil {
			return err
		}
		if strings.Contains(rawKey, ";") {
			return errors.New("invalid semicolon separator in query")
		}
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return err
		}
		switch {
		case !hasValue:
			if key != "" {
				f.params.Add(key, "")
			}
		case key == "file" && f.pending == nil && f.params["file"] == nil:
			sp := lim.newSpool()
			u := &unescaper{w: sp}
			if end, err = copyValue(br, u); err == nil {
				err = u.finish()
			}
			if err != nil {
				sp.Close()
				return err
			}
			f.keepFile(sp, "", false)
		default:
			var raw strings.Builder
			end, err = copyValue(br, writerFunc(func(p []byte) (int, error) {
				if err := budget.take(len(p)); err != nil {
					return 0, err
				}
				return raw.Write(p)
			}))
			if err != nil {
				return err
			}
			v, err := url.QueryUnescape(raw.String())
			if err != nil {
				return err
			}
			f.params.Add(key, v)
		}
		if end {
			return nil
		}
	}
}

// readKey reads a name up to = (hasValue), & or the end of the body (end).
func readKey(br *bufio.Reader, budget *fieldBudget) (key string, hasValue, end bool, err error) {
	var b strings.Builder
	for {
		c, err := br.ReadByte()
		switch {
		case err == io.EOF:
			return b.String(), false, true, nil
		case err != nil:
			return "", false, false, err
		case c == '=':
			return b.String(), true, false, nil
		case c == '&':
			return b.String(), false, false, nil
		}
		if err := budget.take(1); err != nil {
			return "", false, false, err
		}
		b.WriteByte(c)
	}
}

// copyValue copies a value, up to the next & or the end of the body, to w.
func copyValue(br *bufio.Reader, w io.Writer) (end bool, err error) {
	for {
		chunk, err := br.ReadSlice('&')
		if err == nil {
			chunk = chunk[:len(chunk)-1]
		}
		if _, werr := w.Write(chunk); werr != nil {
			return false, werr
		}
		switch err {
		case nil:
			return false, nil
		case bufio.ErrBufferFull:
		case io.EOF:
			return true, nil
		default:
			return false, err
		}
	}
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

// unescaper percent-decodes (and turns + into space) what is written
// through it, as url.QueryUnescape does, in a stream.
type unescaper struct {
	w   io.Writer
	pct int  // hex digits still expected after a %
	hex byte // the escaped byte so far
	out []byte
}

func (u *unescaper) Write(p []byte) (int, error) {
	u.out = u.out[:0]
	for _, c := range p {
		switch {
		case u.pct > 0:
			d, ok := unhex(c)
			if !ok {
				return 0, errors.New("invalid URL escape in file")
			}
			u.hex = u.hex<<4 | d
			if u.pct--; u.pct == 0 {
				u.out = append(u.out, u.hex)
			}
		case c == '%':
			u.pct, u.hex = 2, 0
		case c == '+':
			u.out = append(u.out, ' ')
		default:
			u.out = append(u.out, c)
		}
	}
	if _, err := u.w.Write(u.out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// finish fails on an escape cut short by the end of the value.
func (u *unescaper) finish() error {
	if u.pct > 0 {
		return errors.New("invalid URL escape in file")
	}
	return nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
