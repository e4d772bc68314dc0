package plugins

import (
	"encoding/binary"
	"errors"
	"io"
)

// The run workers' protocol (runworker_linux.go, call_linux.go): frames of
// a little-endian u32 length and a body, over a pipe each way. The host
// sends one request and reads its reply before sending the next; the
// pixels never travel in frames (they are in the slot's shared memory).

// Requests; the first byte of a request body.
const (
	// opBegin: slot, key, pages, fresh, wasm (empty when the worker holds
	// the module), keys to drop, width, height, metadata. The worker
	// drops, loads, deallocs the previous call's inputs (a failure there
	// only discards the instance), instantiates the module in the slot
	// anew when fresh is 1 or the slot holds another module or none, calls
	// alloc for the pixels and for the metadata and writes the metadata.
	// Reply values: the pixels' and the metadata's addresses.
	opBegin byte = iota + 1
	// opCall: slot. transform. Reply value: the output's address. The
	// inputs stay allocated until the next opBegin of the slot: the host
	// reads the output meanwhile, and a call needs two exchanges, not
	// three (each one waits for the other process to be scheduled).
	opCall
)

// Reply statuses. A failed slot has lost its instance on both sides.
const (
	stOK      = 0
	stInvalid = 1 // the module does not load or breaks the ABI: 400
	stFailed  = 2 // the guest trapped, exited or misbehaved: 500
)

// maxFrame bounds a frame: a module and its metadata.
const maxFrame = MaxModuleBytes + 1<<20

var errFrame = errors.New("plugin worker: malformed frame")

// frame is a reusable frame buffer, written with the put methods and
// read with the get methods (a read past the end sets bad).
type frame struct {
	b   []byte
	i   int
	bad bool
}

// start begins a frame whose body opens with op.
func (f *frame) start(op byte) { f.b = append(f.b[:0], 0, 0, 0, 0, op) }

func (f *frame) putU32(v uint32) { f.b = binary.LittleEndian.AppendUint32(f.b, v) }

func (f *frame) putBytes(p []byte) {
	f.putU32(uint32(len(p)))
	f.b = append(f.b, p...)
}

// send writes the frame.
func (f *frame) send(w io.Writer) error {
	binary.LittleEndian.PutUint32(f.b, uint32(len(f.b)-4))
	_, err := w.Write(f.b)
	return err
}

// recv reads a frame; its body is then read from the start.
func (f *frame) recv(r io.Reader) error {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return err
	}
	size := binary.LittleEndian.Uint32(n[:])
	if size == 0 || size > maxFrame {
		return errFrame
	}
	if cap(f.b) < int(size) {
		f.b = make([]byte, size)
	}
	f.b, f.i, f.bad = f.b[:size], 0, false
	_, err := io.ReadFull(r, f.b)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (f *frame) getByte() byte {
	if f.i >= len(f.b) {
		f.bad = true
		return 0
	}
	f.i++
	return f.b[f.i-1]
}

func (f *frame) getU32() uint32 {
	if len(f.b)-f.i < 4 {
		f.bad = true
		return 0
	}
	f.i += 4
	return binary.LittleEndian.Uint32(f.b[f.i-4:])
}

// getBytes returns the next byte string, aliasing the frame.
func (f *frame) getBytes() []byte {
	n := f.getU32()
	if f.bad || uint64(n) > uint64(len(f.b)-f.i) {
		f.bad = true
		return nil
	}
	f.i += int(n)
	return f.b[f.i-int(n) : f.i]
}

// reply is a decoded reply: status, message, the guest's trace lines
// and two values.
type reply struct {
	status uint32
	msg    string
	traces []string
	a, b   uint32
}

// putReply writes a reply frame.
func (f *frame) putReply(status uint32, msg string, traces [][]byte, a, b uint32) {
	f.b = append(f.b[:0], 0, 0, 0, 0)
	f.putU32(status)
	f.putBytes([]byte(msg))
	f.putU32(uint32(len(traces)))
	for _, t := range traces {
		f.putBytes(t)
	}
	f.putU32(a)
	f.putU32(b)
}

// getReply decodes the reply just received.
func (f *frame) getReply() (reply, error) {
	r := reply{status: f.getU32(), msg: string(f.getBytes())}
	n := f.getU32()
	for i := uint32(0); i < n && !f.bad; i++ {
		r.traces = append(r.traces, string(f.getBytes()))
	}
	r.a, r.b = f.getU32(), f.getU32()
	if f.bad {
		return r, errFrame
	}
	return r, nil
}
