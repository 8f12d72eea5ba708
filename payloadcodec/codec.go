// Package payloadcodec encrypts every Temporal payload licensedesk writes
// (workflow and activity inputs and results, signals, updates, queries,
// memo, failure messages) with AES-256-GCM, so a workflow history holds no
// customer email, name or token in clear. Search attributes are not
// payloads the codec sees; they stay plain for the UI's searches.
//
// Keys have IDs and rotate: TEMPORAL_CODEC_KEYS lists several, the first
// encrypts, all decrypt. Payloads written before the codec (plain) still
// decode, so histories recorded before it replay.
package payloadcodec

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// The metadata of an encrypted payload. The encoding is the name Temporal's
// own samples use, so the UI and CLI show it for what it is.
const (
	Encoding         = "binary/encrypted"
	MetadataKeyID    = "encryption-key-id"
	MetadataCipher   = "encryption-cipher"
	cipherName       = "AES256-GCM"
	associatedPrefix = "licensedesk/payloadcodec/v1:"
)

// The first byte of the plaintext says how the payload inside was stored;
// it is encrypted with it, so nobody can flip it.
const (
	formatRaw      byte = 0
	formatDeflated byte = 1
)

// compressFrom is the payload size from which compression is tried: below
// it, deflate rarely saves a byte.
const compressFrom = 200

// maxInflated bounds a decompressed payload (Temporal refuses payloads over
// 2 MiB; 4 MiB leaves room and stops a deflate bomb).
const maxInflated = 4 << 20

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Codec is a converter.PayloadCodec with a set of keys.
type Codec struct {
	active string
	keys   map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// ParseKeys reads TEMPORAL_CODEC_KEYS: comma-separated `id:key` pairs, each
// key 32 bytes in base64; the first pair encrypts, every pair decrypts.
// Errors name the pair at fault, never the key.
func ParseKeys(s string) (*Codec, error) {
	c := &Codec{keys: map[string]cipher.AEAD{}}
	for i, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		id, b64, ok := strings.Cut(pair, ":")
		if !ok || !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("TEMPORAL_CODEC_KEYS: entry %d is not id:base64-key (the id: letters, digits, . _ -, at most 64)", i+1)
		}
		raw, err := decodeKey(b64)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_CODEC_KEYS: key %q: %w", id, err)
		}
		if _, dup := c.keys[id]; dup {
			return nil, fmt.Errorf("TEMPORAL_CODEC_KEYS: key id %q appears twice", id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_CODEC_KEYS: key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		c.keys[id] = aead
		if i == 0 {
			c.active = id
		}
	}
	return c, nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("is %d bytes; AES-256 needs 32 (make one with `openssl rand -base64 32`)", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("is not base64")
}

// NewKey makes a fresh `id:key` entry for TEMPORAL_CODEC_KEYS.
func NewKey(id string) (string, error) {
	if !keyIDPattern.MatchString(id) {
		return "", fmt.Errorf("key id %q: letters, digits, . _ - only", id)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return id + ":" + base64.StdEncoding.EncodeToString(b), nil
}

// ActiveKeyID is the ID of the key new payloads are encrypted with.
func (c *Codec) ActiveKeyID() string { return c.active }

// Encode encrypts each payload with the active key, deflating it first
// when that makes it smaller.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.keys[c.active]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		inner, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("payload codec: %w", err)
		}
		plain := append([]byte{formatRaw}, inner...)
		if len(inner) >= compressFrom {
			if z, ok := deflate(inner); ok {
				plain = append([]byte{formatDeflated}, z...)
			}
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return payloads, fmt.Errorf("payload codec: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(c.active),
				MetadataCipher:             []byte(cipherName),
			},
			Data: aead.Seal(nonce, nonce, plain, associated(c.active)),
		}
	}
	return out, nil
}

// Decode decrypts the payloads this codec encrypted and passes every other
// payload (plain ones from before the codec) through unchanged.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		d, err := c.decodeOne(p)
		if err != nil {
			return payloads, err
		}
		out[i] = d
	}
	return out, nil
}

func (c *Codec) decodeOne(p *commonpb.Payload) (*commonpb.Payload, error) {
	id := string(p.Metadata[MetadataKeyID])
	aead, ok := c.keys[id]
	if !ok {
		return nil, fmt.Errorf("payload codec: a payload is encrypted with key %q, which TEMPORAL_CODEC_KEYS does not hold", id)
	}
	if len(p.Data) < aead.NonceSize()+aead.Overhead()+1 {
		return nil, errors.New("payload codec: an encrypted payload is too short")
	}
	nonce, sealed := p.Data[:aead.NonceSize()], p.Data[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, sealed, associated(id))
	if err != nil {
		return nil, fmt.Errorf("payload codec: a payload encrypted with key %q does not decrypt (altered, or another key under that id)", id)
	}
	inner := plain[1:]
	switch plain[0] {
	case formatRaw:
	case formatDeflated:
		if inner, err = inflate(inner); err != nil {
			return nil, fmt.Errorf("payload codec: %w", err)
		}
	default:
		return nil, fmt.Errorf("payload codec: unknown payload format %d", plain[0])
	}
	var d commonpb.Payload
	if err := proto.Unmarshal(inner, &d); err != nil {
		return nil, fmt.Errorf("payload codec: %w", err)
	}
	return &d, nil
}

// associated binds the ciphertext to its key ID (GCM's additional data).
func associated(keyID string) []byte { return []byte(associatedPrefix + keyID) }

func deflate(b []byte) ([]byte, bool) {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	if _, err := w.Write(b); err != nil {
		return nil, false
	}
	if err := w.Close(); err != nil || buf.Len() >= len(b) {
		return nil, false
	}
	return buf.Bytes(), true
}

func inflate(b []byte) ([]byte, error) {
	r := flate.NewReader(bytes.NewReader(b))
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, maxInflated+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxInflated {
		return nil, errors.New("a payload inflates past 4 MiB")
	}
	return out, nil
}

// DataConverter is Temporal's default converter with c applied to every
// payload; nil c is the default converter alone.
func DataConverter(c *Codec) converter.DataConverter {
	if c == nil {
		return converter.GetDefaultDataConverter()
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter moves failure messages and stack traces into an encoded
// payload too (they can quote an email), through c; nil c is the default.
func FailureConverter(c *Codec) converter.FailureConverter {
	if c == nil {
		return temporal.GetDefaultFailureConverter()
	}
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter: DataConverter(c), EncodeCommonAttributes: true,
	})
}
