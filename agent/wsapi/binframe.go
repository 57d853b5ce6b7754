package wsapi

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/podpis/podpis/agent"
)

// Binary chunks: over the WebSocket a page may send a chunk as a binary
// message instead of a streamChunk request — the same chunk, without
// base64 and JSON. Chromium carries large text messages at 16–34 MB/s,
// a tenth of what the agent hashes; binary messages it carries at memory
// speed. A binary message is nothing but another encoding of
// streamChunk: the same stream, offset, size and idle checks
// (hashChunk), the same JSON acknowledgement. No other request has a
// binary form.
//
//	byte  0      BinaryVersion
//	bytes 1–12   the stream's id (streamBegin's 24 hex digits, as bytes)
//	bytes 13–20  offset, big-endian
//	bytes 21–24  the request id of the acknowledgement, big-endian
//	bytes 25–    the chunk's bytes (at most ChunkSize)

// BinaryVersion is the first byte of a binary chunk: another value is
// BAD_REQUEST, so that a later layout cannot be misread as this one.
const BinaryVersion = 1

// BinaryHeader is the length of a binary chunk's header.
const BinaryHeader = 1 + streamIDBytes + 8 + 4

// streamIDBytes: a stream id is 12 random bytes, written in hex.
const streamIDBytes = 12

// binaryID reads a binary message's header: its acknowledgement's id,
// and whether the header is whole and of BinaryVersion.
func binaryID(msg []byte) (json.RawMessage, bool) {
	if len(msg) < BinaryHeader || msg[0] != BinaryVersion {
		return json.RawMessage("null"), false
	}
	return json.RawMessage(strconv.FormatUint(uint64(binary.BigEndian.Uint32(msg[21:25])), 10)), true
}

// ReceiveBinary takes one binary message: a chunk, answered at once like
// streamChunk. Anything else — a short or unknown header, a chunk of no
// stream of this connection, at the wrong offset, too big — is a protocol
// error; the connection stays.
func (c *Conn) ReceiveBinary(msg []byte) Response {
	id, ok := binaryID(msg)
	if !ok {
		return failure(id, BadRequest)
	}
	stream := hex.EncodeToString(msg[1 : 1+streamIDBytes])
	off := binary.BigEndian.Uint64(msg[13:21])
	if off > 1<<62 {
		return Response{ID: id, Error: ErrorOf(fmt.Errorf("%w: offset %d", agent.ErrBadRequest, off))}
	}
	res, err := c.hashChunk(stream, int64(off), msg[BinaryHeader:])
	if err != nil {
		return Response{ID: id, Error: ErrorOf(err)}
	}
	return Response{ID: id, Result: res}
}

// BinaryTooLarge answers a binary message over the frame limit that the
// transport skipped (prefix its beginning): TOO_LARGE, with the
// acknowledgement's id when the header was whole.
func BinaryTooLarge(prefix []byte) Response {
	id, _ := binaryID(prefix)
	return failure(id, TooLargeCode)
}
