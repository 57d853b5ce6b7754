package nativehost

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The native messaging framing (Chrome's and Firefox's): each message is
// a 32-bit length in the machine's byte order, then that many bytes of
// UTF-8 JSON. The agent's channel uses the same framing: both ends are on
// one machine.

const (
	// MaxMessage bounds one protocol message, as the WebSocket server
	// bounds a frame (server.Server.MaxFrame).
	MaxMessage = 1 << 20
	// MaxEnvelope bounds an envelope: a message and the origin it carries.
	MaxEnvelope = MaxMessage + 4<<10
	// MaxToBrowser is what a browser accepts from a host in one message
	// (Chrome: 1 MB); a bigger reply is replaced by TOO_LARGE.
	MaxToBrowser = 1 << 20
	// MaxFromBrowser is what a browser may send a host in one message
	// (Chrome: 64 MiB). Up to it, a message over our limit is read and
	// skipped, so the stream stays in step; beyond it the stream is not
	// native messaging at all.
	MaxFromBrowser = 64 << 20
)

var (
	// ErrTooLarge: the frame was over the limit and has been skipped; the
	// next frame can be read.
	ErrTooLarge = errors.New("nativehost: message too large")
	// ErrEmpty: a frame of zero bytes, which is no JSON.
	ErrEmpty = errors.New("nativehost: empty message")
	// ErrFraming: the length is beyond anything a browser sends, so the
	// stream is out of step; nothing more can be read from it.
	ErrFraming = errors.New("nativehost: not native messaging framing")
)

// ReadFrame reads one frame of at most limit bytes. It returns io.EOF at a
// clean end between frames and io.ErrUnexpectedEOF inside one.
func ReadFrame(r io.Reader, limit int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.NativeEndian.Uint32(hdr[:])
	switch {
	case n == 0:
		return nil, ErrEmpty
	case n > MaxFromBrowser:
		return nil, fmt.Errorf("%w: length %d", ErrFraming, n)
	case int64(n) > int64(limit):
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, n, limit)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// WriteFrame writes msg as one frame, refusing more than limit bytes.
func WriteFrame(w io.Writer, msg []byte, limit int) error {
	if len(msg) == 0 {
		return ErrEmpty
	}
	if len(msg) > limit {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(msg), limit)
	}
	buf := make([]byte, 4+len(msg))
	binary.NativeEndian.PutUint32(buf, uint32(len(msg)))
	copy(buf[4:], msg)
	_, err := w.Write(buf)
	return err
}
