package azure_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-openapi/loads"
	"github.com/go-openapi/spec"
	"github.com/go-openapi/strfmt"
	"github.com/go-openapi/validate"
)

// specs is where the files of Azure/azure-rest-api-specs the tests read are
// kept, each at its path in that repository (see SOURCES, and make
// azure-specs, which refreshes them from a checkout).
const specs = "testdata/specs"

// TestSpecFilesAsSourced: every file SOURCES lists is there, with the
// SHA-256 it was copied with, so that what the tests hold Azure to is what
// Microsoft wrote at the commit named, not a copy edited since.
func TestSpecFilesAsSourced(t *testing.T) {
	f, err := os.Open(filepath.Join(specs, "SOURCES"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for s := bufio.NewScanner(f); s.Scan(); {
		line := s.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 || len(fields[1]) != 40 || len(fields[2]) != 64 {
			t.Errorf("SOURCES line %q is not: path, commit, SHA-256", line)
			continue
		}
		b, err := os.ReadFile(filepath.Join(specs, filepath.FromSlash(fields[0])))
		if err != nil {
			t.Error(err)
			continue
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != fields[2] {
			t.Errorf("%s has changed since it was copied from %s", fields[0], fields[1])
		}
		n++
	}
	if n == 0 {
		t.Fatal("SOURCES lists no file")
	}
}

// example is an x-ms-examples file: the operation's parameters and its
// answers by status, as Microsoft recorded them.
type example struct {
	Parameters map[string]json.RawMessage `json:"parameters"`
	Responses  map[string]struct {
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"responses"`
}

func loadExample(t *testing.T, path string) example {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(specs, filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	var ex example
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ex
}

// answer is one recorded answer as the replay server sends it.
type answer struct {
	status  int
	headers map[string]string
	body    json.RawMessage
}

// recorded is the example's answer of status.
func (ex example) recorded(t *testing.T, status int) answer {
	t.Helper()
	r, ok := ex.Responses[fmt.Sprint(status)]
	if !ok {
		t.Fatalf("the example records no %d answer", status)
	}
	return answer{status: status, headers: r.Headers, body: r.Body}
}

// replay is a loopback ARM that sends recorded answers: each route, "METHOD
// path-suffix", answers its list in turn, the last one again and again.
// The recordings' operation URLs (Location, Azure-AsyncOperation) name
// hosts such as foo.com; they are sent with this server's address in their
// place, path kept, so that the client polls here. What no route knows is
// 404. It logs each request as "METHOD path".
type replay struct {
	*armServer
	mu     sync.Mutex
	routes map[string][]answer
	served map[string]int
	log    []string
}

func newReplay(t *testing.T, routes map[string][]answer) *replay {
	t.Helper()
	r := &replay{routes: routes, served: map[string]int{}}
	r.armServer = &armServer{Server: httptest.NewTLSServer(http.HandlerFunc(r.serve))}
	t.Cleanup(r.Close)
	return r
}

func (r *replay) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, req.Method+" "+req.URL.Path)
	for route, answers := range r.routes {
		method, suffix, _ := strings.Cut(route, " ")
		if req.Method != method || !strings.HasSuffix(strings.ToLower(req.URL.Path), strings.ToLower(suffix)) {
			continue
		}
		a := answers[min(r.served[route], len(answers)-1)]
		r.served[route]++
		for k, v := range a.headers {
			if u, err := url.Parse(v); err == nil && u.Scheme == "https" && (strings.EqualFold(k, "location") || strings.EqualFold(k, "azure-asyncoperation")) {
				u.Host = req.Host
				v = u.String()
			}
			w.Header().Set(k, v)
		}
		if len(a.body) > 0 {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(a.status)
		w.Write(a.body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(w, `{"error":{"code":"ResourceNotFound","message":"%s %s was not recorded."}}`, req.Method, req.URL.Path)
}

// requests is what the server was asked, as "METHOD path".
func (r *replay) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

// operation is an operation of an OpenAPI file, found by its path template
// and method, with the file loaded and validated as Swagger 2.0.
type operation struct {
	doc      *loads.Document
	file     string
	template string
	op       *spec.Operation
}

func loadOperation(t *testing.T, file, method, template string) operation {
	t.Helper()
	doc, err := loads.Spec(filepath.Join(specs, filepath.FromSlash(file)))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	item, ok := doc.Spec().Paths.Paths[template]
	if !ok {
		t.Fatalf("%s has no path %s", file, template)
	}
	var op *spec.Operation
	switch method {
	case http.MethodGet:
		op = item.Get
	case http.MethodPut:
		op = item.Put
	case http.MethodPost:
		op = item.Post
	case http.MethodDelete:
		op = item.Delete
	}
	if op == nil {
		t.Fatalf("%s has no %s %s", file, method, template)
	}
	return operation{doc: doc, file: file, template: template, op: op}
}

// matches reports whether a request path is one of the operation's: its
// template's segments, each {parameter} standing for any one, case aside.
func (o operation) matches(path string) bool {
	want, got := strings.Split(o.template, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if !strings.HasPrefix(want[i], "{") && !strings.EqualFold(want[i], got[i]) {
			return false
		}
	}
	return true
}

// responseSchema is the schema of the operation's answer of status, its
// references within the file resolved.
func (o operation) responseSchema(t *testing.T, status int) *spec.Schema {
	t.Helper()
	resp, ok := o.op.Responses.StatusCodeResponses[status]
	if !ok || resp.Schema == nil {
		t.Fatalf("%s has no schema for %d", o.op.ID, status)
	}
	schema := *resp.Schema
	if err := spec.ExpandSchema(&schema, o.doc.Spec(), nil); err != nil {
		t.Fatalf("%s: expand the %d schema: %v", o.op.ID, status, err)
	}
	return &schema
}

// validateJSON checks body against schema with go-openapi's validator and
// returns what it found wrong, nil when nothing.
func validateJSON(schema *spec.Schema, body []byte) error {
	var data any
	if err := json.Unmarshal(body, &data); err != nil {
		return err
	}
	return validate.AgainstSchema(schema, data, strfmt.Default)
}

// exchange is one request the azure package sent and its answer, as the
// transport saw them.
type exchange struct {
	method, path string
	request      []byte
	status       int
	response     []byte
}

// recorder is a transport that keeps every exchange passing through it.
type recorder struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	mu  sync.Mutex
	all []exchange
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	var sent []byte
	if req.Body != nil {
		sent, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(sent))
	}
	resp, err := r.next.Do(req)
	if err != nil {
		return resp, err
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(got))
	if err != nil {
		return resp, err
	}
	r.mu.Lock()
	r.all = append(r.all, exchange{req.Method, req.URL.Path, sent, resp.StatusCode, got})
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) exchanges() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.all...)
}
