package payloadcodec

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// Path is where the codec server is mounted; the Temporal UI and
// `temporal --codec-endpoint` are given <admin URL>/codec and call
// /codec/encode and /codec/decode.
const Path = "/codec"

// maxRequest bounds a request body: the UI sends one event's payloads, and
// Temporal refuses payloads over 2 MiB.
const maxRequest = 8 << 20

// ServerOptions configure the codec server.
type ServerOptions struct {
	// Token is the bearer token every request must carry (TEMPORAL_CODEC_AUTH_TOKEN):
	// `Authorization: Bearer <token>` (the CLI's --codec-auth), or HTTP Basic
	// with the token as the password (a browser, once signed in at /codec/).
	Token string
	// Open serves without a token: dev only, on a loopback listener.
	Open bool
	// Origins are the browser origins (the Temporal UI's) allowed to call
	// from a page, with CORS; any other origin is refused.
	Origins []string
	// Namespace: a request naming another one (X-Namespace) is refused.
	Namespace string
	Logger    *slog.Logger
}

// Handler serves /codec/encode, /codec/decode and /codec/ (a page a
// browser signs in at) for c. Without a token it refuses everything unless
// o.Open says so.
func Handler(c *Codec, o ServerOptions) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &codecServer{codec: c, o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("OPTIONS "+Path+"/{op}", s.preflight)
	mux.HandleFunc("POST "+Path+"/{op}", s.convert)
	mux.HandleFunc("GET "+Path+"/{$}", s.signIn)
	return mux
}

type codecServer struct {
	codec *Codec
	o     ServerOptions
}

// cors answers whether the request may go on: requests without an Origin
// (the CLI, curl) may; a browser's only from an allowed origin, which then
// gets the CORS headers.
func (s *codecServer) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if origin == "" {
		return true
	}
	if !slices.Contains(s.o.Origins, origin) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	return true
}

func (s *codecServer) preflight(w http.ResponseWriter, r *http.Request) {
	if !knownOp(r.PathValue("op")) || !s.cors(w, r) {
		s.refuse(w, r, http.StatusForbidden, "origin not allowed")
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization, Authorization-Extras")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

func knownOp(op string) bool { return op == "encode" || op == "decode" }

func (s *codecServer) convert(w http.ResponseWriter, r *http.Request) {
	op := r.PathValue("op")
	switch {
	case !knownOp(op):
		http.NotFound(w, r)
		return
	case !s.cors(w, r):
		s.refuse(w, r, http.StatusForbidden, "origin not allowed")
		return
	case !s.authorized(r):
		w.Header().Set("WWW-Authenticate", `Bearer realm="licensedesk codec"`)
		s.refuse(w, r, http.StatusUnauthorized, "a bearer token is required")
		return
	case r.Header.Get("X-Namespace") != "" && s.o.Namespace != "" && r.Header.Get("X-Namespace") != s.o.Namespace:
		s.refuse(w, r, http.StatusForbidden, "this codec serves namespace "+s.o.Namespace)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
	if err != nil {
		status := http.StatusBadRequest
		if errors.As(err, new(*http.MaxBytesError)) {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, "cannot read the request body", status)
		return
	}
	var in commonpb.Payloads
	if err := protojson.Unmarshal(body, &in); err != nil {
		http.Error(w, `the body is not {"payloads": [...]}`, http.StatusBadRequest)
		return
	}
	conv := s.codec.Decode
	if op == "encode" {
		conv = s.codec.Encode
	}
	out, err := conv(in.Payloads)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest) // our own message: names a key ID, never a key
		return
	}
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
	if err != nil {
		http.Error(w, "cannot encode the answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// signIn is where a person opens the codec URL in the browser they run the
// Temporal UI in: the Basic challenge makes the browser ask for the token
// (as the password) and remember it, and the UI's requests then carry it
// when "include cross-origin credentials" is on.
func (s *codecServer) signIn(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="licensedesk codec", charset="UTF-8"`)
		s.refuse(w, r, http.StatusUnauthorized, "sign in with any user name and the codec token as the password")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, "Signed in to the licensedesk codec server. In the Temporal UI, set the codec endpoint to this URL without the trailing slash and turn on \"include cross-origin credentials\".\n")
}

func (s *codecServer) authorized(r *http.Request) bool {
	if s.o.Open {
		return true
	}
	if s.o.Token == "" {
		return false
	}
	got := ""
	auth := r.Header.Get("Authorization")
	switch scheme, rest, _ := strings.Cut(auth, " "); strings.ToLower(scheme) {
	case "bearer":
		got = strings.TrimSpace(rest)
	case "basic":
		if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest)); err == nil {
			_, got, _ = strings.Cut(string(b), ":")
		}
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.o.Token)) == 1
}

func (s *codecServer) refuse(w http.ResponseWriter, r *http.Request, status int, why string) {
	s.o.Logger.WarnContext(r.Context(), "codec server refused a request", "status", status, "why", why,
		"remote", r.RemoteAddr, "origin", r.Header.Get("Origin"))
	http.Error(w, why, status)
}
