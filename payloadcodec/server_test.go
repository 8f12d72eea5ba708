package payloadcodec_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"licensedesk/payloadcodec"
)

const (
	codecToken = "codec-token-for-tests-0123456789abcdef"
	uiOrigin   = "https://temporal-ui.example.net"
)

func codecServer(t *testing.T, o payloadcodec.ServerOptions) (*httptest.Server, *payloadcodec.Codec) {
	t.Helper()
	c := mustParse(t, keyA)
	srv := httptest.NewServer(payloadcodec.Handler(c, o))
	t.Cleanup(srv.Close)
	return srv, c
}

func encrypted(t *testing.T, c *payloadcodec.Codec, v any) *commonpb.Payload {
	t.Helper()
	p, err := payloadcodec.DataConverter(c).ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The SDK's own remote codec client speaks the protocol the UI and
// `temporal --codec-endpoint` speak; it decodes through the server.
func TestCodecServer_DecodesForTheSDKsRemoteCodec(t *testing.T) {
	srv, c := codecServer(t, payloadcodec.ServerOptions{Token: codecToken, Namespace: "default"})
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: srv.URL + payloadcodec.Path,
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+codecToken)
			r.Header.Set("X-Namespace", "default")
			return nil
		},
	})
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), remote)
	var got string
	if err := dc.FromPayload(encrypted(t, c, "alice@acme.test"), &got); err != nil || got != "alice@acme.test" {
		t.Fatalf("decoded through the server: %q, %v", got, err)
	}
	// And encodes: the server's output decodes locally.
	p, err := dc.ToPayload("bob@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Metadata["encoding"]) != payloadcodec.Encoding {
		t.Fatalf("encode through the server gave %q", p.Metadata["encoding"])
	}
	if err := payloadcodec.DataConverter(c).FromPayload(p, &got); err != nil || got != "bob@acme.test" {
		t.Fatalf("server-encoded payload: %q, %v", got, err)
	}
}

func post(t *testing.T, url string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"payloads":[]}`))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestCodecServer_WhoMayCall(t *testing.T) {
	srv, _ := codecServer(t, payloadcodec.ServerOptions{Token: codecToken, Origins: []string{uiOrigin}, Namespace: "default"})
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:"+codecToken))
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong token", map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
		{"the token as a prefix", map[string]string{"Authorization": "Bearer " + codecToken + "x"}, http.StatusUnauthorized},
		{"bearer", map[string]string{"Authorization": "Bearer " + codecToken}, http.StatusOK},
		{"basic, the token as password", map[string]string{"Authorization": basic}, http.StatusOK},
		{"the UI's origin", map[string]string{"Authorization": "Bearer " + codecToken, "Origin": uiOrigin}, http.StatusOK},
		{"another origin, even with the token", map[string]string{"Authorization": "Bearer " + codecToken, "Origin": "https://evil.example"}, http.StatusForbidden},
		{"another namespace", map[string]string{"Authorization": "Bearer " + codecToken, "X-Namespace": "other"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, srv.URL+"/codec/decode", tc.header)
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
			acao := resp.Header.Get("Access-Control-Allow-Origin")
			if tc.header["Origin"] == uiOrigin && acao != uiOrigin {
				t.Errorf("Access-Control-Allow-Origin %q for the UI", acao)
			}
			if tc.header["Origin"] != uiOrigin && acao != "" {
				t.Errorf("Access-Control-Allow-Origin %q for a non-UI caller", acao)
			}
		})
	}
}

func TestCodecServer_PreflightOnlyForTheUI(t *testing.T) {
	srv, _ := codecServer(t, payloadcodec.ServerOptions{Token: codecToken, Origins: []string{uiOrigin}})
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/codec/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace,authorization")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	ok := preflight(uiOrigin)
	if ok.StatusCode != http.StatusNoContent || ok.Header.Get("Access-Control-Allow-Origin") != uiOrigin ||
		!strings.Contains(ok.Header.Get("Access-Control-Allow-Headers"), "X-Namespace") ||
		ok.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("preflight from the UI: %d %v", ok.StatusCode, ok.Header)
	}
	if bad := preflight("https://evil.example"); bad.StatusCode != http.StatusForbidden || bad.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from elsewhere: %d %v", bad.StatusCode, bad.Header)
	}
}

func TestCodecServer_NoTokenConfiguredRefusesAll(t *testing.T) {
	srv, _ := codecServer(t, payloadcodec.ServerOptions{})
	for _, h := range []map[string]string{nil, {"Authorization": "Bearer "}, {"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("x:"))}} {
		if resp := post(t, srv.URL+"/codec/decode", h); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%v: status %d, want 401", h, resp.StatusCode)
		}
	}
}

func TestCodecServer_BadRequests(t *testing.T) {
	srv, _ := codecServer(t, payloadcodec.ServerOptions{Token: codecToken})
	send := func(path, body string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+codecToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := send("/codec/decode", "not json"); got != http.StatusBadRequest {
		t.Errorf("not JSON: %d", got)
	}
	if got := send("/codec/decode", `{"payloads":[{"metadata":{"encoding":"YmluYXJ5L2VuY3J5cHRlZA==","encryption-key-id":"dW5rbm93bg=="},"data":"AAAA"}]}`); got != http.StatusBadRequest {
		t.Errorf("unknown key: %d", got)
	}
	if got := send("/codec/other", `{"payloads":[]}`); got != http.StatusNotFound {
		t.Errorf("unknown operation: %d", got)
	}
	if got := send("/codec/decode", `{"payloads":[{"data":"`+strings.Repeat("A", 9<<20)+`"}]}`); got != http.StatusRequestEntityTooLarge {
		t.Errorf("a 9 MiB body: %d", got)
	}
}

func TestCodecServer_BrowserSignIn(t *testing.T) {
	srv, _ := codecServer(t, payloadcodec.ServerOptions{Token: codecToken})
	resp, err := http.Get(srv.URL + "/codec/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("sign-in page without credentials: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/codec/", nil)
	req.SetBasicAuth("ops", codecToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("sign-in page with the token: %d", resp.StatusCode)
	}
}
