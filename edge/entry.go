package edge

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"github.com/valyala/fasthttp"
)

// entry is one cached response: one buffer holds the values of its
// Content-Type, ETag and Last-Modified headers, ready to send, then the
// body. It is never modified once made: responses send its bytes as they
// are, without copying them.
type entry struct {
	buf       []byte
	ct, etag  int32 // where the content type and the ETag end in buf
	lm        int32 // where the Last-Modified date ends, and the body begins
	modified  int64 // Last-Modified, in Unix seconds
	transient bool  // served but not cached (a d_ placeholder)
}

// entryOverhead approximates what an entry costs the memory tier besides
// its buffer and key: the entry, its list element and map slot.
const entryOverhead = 192

// newEntry copies body into a new entry.
func newEntry(contentType, etag string, modified time.Time, body []byte) *entry {
	e := &entry{modified: modified.Unix()}
	date := fasthttp.AppendHTTPDate(nil, modified)
	n := len(contentType) + len(etag) + len(date)
	e.buf = make([]byte, 0, n+len(body))
	e.buf = append(append(append(append(e.buf, contentType...), etag...), date...), body...)
	e.ct, e.etag, e.lm = int32(len(contentType)), int32(len(contentType)+len(etag)), int32(n)
	return e
}

func (e *entry) contentType() []byte { return e.buf[:e.ct] }
func (e *entry) etagValue() []byte   { return e.buf[e.ct:e.etag] }
func (e *entry) lastModified() []byte {
	return e.buf[e.etag:e.lm]
}
func (e *entry) body() []byte { return e.buf[e.lm:] }

// size is what the entry costs the memory tier under key.
func (e *entry) size(key string) int64 { return int64(cap(e.buf)+len(key)) + entryOverhead }

// diskHeader is an entry's header on disk.
type diskHeader struct {
	ContentType  string    `json:"ct"`
	ETag         string    `json:"etag"`
	LastModified time.Time `json:"lm"`
}

// encode lays an entry out for the disk tier: a length-prefixed JSON
// header, then the body.
func (e *entry) encode() []byte {
	h, _ := json.Marshal(diskHeader{string(e.contentType()), string(e.etagValue()), time.Unix(e.modified, 0).UTC()})
	out := make([]byte, 4+len(h)+len(e.body()))
	binary.BigEndian.PutUint32(out, uint32(len(h)))
	copy(out[4:], h)
	copy(out[4+len(h):], e.body())
	return out
}

// decodeEntry reads what encode wrote. The entry takes b over: the header
// values are written where the JSON was, just before the body (they are
// always shorter than the JSON), so the body is not copied.
func decodeEntry(b []byte) (*entry, error) {
	if len(b) < 4 {
		return nil, errors.New("short cache entry")
	}
	n := int(binary.BigEndian.Uint32(b))
	if 4+n > len(b) || n < 0 {
		return nil, errors.New("corrupt cache entry")
	}
	var h diskHeader
	if err := json.Unmarshal(b[4:4+n], &h); err != nil {
		return nil, err
	}
	date := fasthttp.AppendHTTPDate(nil, h.LastModified)
	vals := len(h.ContentType) + len(h.ETag) + len(date)
	start := 4 + n - vals
	if start < 0 {
		return nil, errors.New("corrupt cache entry")
	}
	copy(b[start:], h.ContentType)
	copy(b[start+len(h.ContentType):], h.ETag)
	copy(b[start+len(h.ContentType)+len(h.ETag):], date)
	return &entry{buf: b[start:], ct: int32(len(h.ContentType)), etag: int32(len(h.ContentType) + len(h.ETag)),
		lm: int32(vals), modified: h.LastModified.Unix()}, nil
}
