package origin

import (
	"fmt"
	"os"
)

// spoolPattern names the temporary files.
const spoolPattern = "upload-*"

// spoolMemory is how much of a spooled value stays in memory before the
// rest goes to a temporary file.
const spoolMemory = 64 << 10

// spool holds one streamed value (an upload's file): the first
// spoolMemory bytes in memory, all of it in a temporary file in dir beyond
// that. An empty dir keeps everything in memory (for bodies already read).
// Close removes the file.
type spool struct {
	dir   string
	limit int64 // most bytes accepted
	buf   []byte
	f     *os.File
	n     int64
}

// Write appends p, moving to a temporary file when memory is full, and
// refuses (400, as Cloudinary) to grow beyond the limit.
func (s *spool) Write(p []byte) (int, error) {
	if s.n+int64(len(p)) > s.limit {
		return 0, &limitError{400, fmt.Sprintf("File size too large. Maximum is %d.", s.limit)}
	}
	if s.f == nil && s.dir != "" && len(s.buf)+len(p) > spoolMemory {
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			return 0, err
		}
		f, err := os.CreateTemp(s.dir, spoolPattern)
		if err != nil {
			return 0, err
		}
		s.f = f
		if _, err := f.Write(s.buf); err != nil {
			return 0, err
		}
		s.buf = nil
	}
	if s.f != nil {
		n, err := s.f.Write(p)
		s.n += int64(n)
		return n, err
	}
	s.buf = append(s.buf, p...)
	s.n += int64(len(p))
	return len(p), nil
}

// onDisk reports whether the value outgrew memory.
func (s *spool) onDisk() bool { return s.f != nil }

// Bytes reads the whole value into memory.
func (s *spool) Bytes() ([]byte, error) {
	if s.f == nil {
		return s.buf, nil
	}
	b := make([]byte, s.n)
	if _, err := s.f.ReadAt(b, 0); err != nil { // short only on error
		return nil, err
	}
	return b, nil
}

// Close drops the value and removes its file.
func (s *spool) Close() error {
	s.buf = nil
	if s.f == nil {
		return nil
	}
	s.f.Close()
	err := os.Remove(s.f.Name())
	s.f = nil
	return err
}
