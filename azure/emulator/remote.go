package emulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// The emulator in a process of its own (`instancehub emulator --addr`):
// several portals then share one emulated cloud, as replicas share one
// Azure. It serves the same fake ARM over HTTPS to the real SDK clients,
// which reach it by configuration only: its address as their cloud's
// Resource Manager endpoint, and a policy that tells it each request's API
// name, which the SDK keeps in the request's context and the emulator's
// rules are keyed by (in process, it reads the context itself).

// APINameHeader carries a request's API name ("VirtualMachinesClient.BeginStart").
const APINameHeader = "X-Instancehub-Api-Name"

// infoPath answers what a portal needs to know of the emulated cloud.
const infoPath = "/instancehub/emulator"

// Info is the emulated subscription as a portal configures itself for it.
type Info struct {
	SubscriptionID string   `json:"subscriptionId"`
	ResourceGroup  string   `json:"resourceGroup"`
	Regions        []string `json:"regions"`
}

// Handler serves the emulator over HTTP, for clients of other processes.
func (e *Emulator) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, pricesPath) {
			// Its price list, in the Azure Retail Prices API's shape.
			resp, err := e.PricesTransport().RoundTrip(r.Clone(r.Context()))
			if err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			writeResponse(w, resp)
			return
		}
		if r.URL.Path == infoPath {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(Info{SubscriptionID: e.SubscriptionID(), ResourceGroup: e.ResourceGroup(), Regions: e.Regions()})
			return
		}
		api := r.Header.Get(APINameHeader)
		req := r.Clone(context.WithValue(r.Context(), runtime.CtxAPINameKey{}, api))
		// The fakes write the addresses of long-running operations from the
		// request's URL: the emulator's own, as the client reached it.
		req.URL.Scheme, req.URL.Host, req.RequestURI = "https", r.Host, ""
		if r.TLS == nil {
			req.URL.Scheme = "http"
		}
		if host := r.Header.Get(registryHostHeader); api == RegistryManifestAPI && host != "" {
			req.URL.Host = host // the registry the read was meant for
		}
		resp, err := e.door.Do(req)
		if err != nil {
			status := http.StatusBadGateway
			if errors.Is(err, errClosed) {
				status = http.StatusServiceUnavailable
			}
			http.Error(w, err.Error(), status)
			return
		}
		writeResponse(w, resp)
	})
}

// writeResponse answers with resp, as the client's transport would have
// received it in process.
func writeResponse(w http.ResponseWriter, resp *http.Response) {
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// Remote is an emulator served by another process, as its clients see it.
type Remote struct {
	Info
	url       string
	transport *http.Client
}

// Dial reaches the emulator served at url (https://host:port), trusting the
// certificate in caFile (the emulator's own, self-signed), and reads what
// it emulates.
func Dial(ctx context.Context, url, caFile string) (*Remote, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("emulator certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("emulator certificate %s: no PEM certificate in it", caFile)
	}
	// HTTP/1.1, each request in flight on a connection of its own, kept
	// for the next; one idle for 90 s is closed, as the SDK's own
	// transport closes those it keeps to Resource Manager. Without that
	// limit, eight creates at once left 56 TLS connections (112
	// goroutines, their buffers and stacks) for as long as the portal
	// ran. (HTTP/2, as Azure is reached, shares one connection, but the
	// emulator's long pages of VMs then came slower over it: a Refresh of
	// 100,000 took 2.1-2.4 s where HTTP/1.1's took 2.0-2.3 s, and
	// 2.7-5.3 s against 2.1-2.5 s right after a start.)
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second,
	}}
	r := &Remote{url: strings.TrimRight(url, "/"), transport: client}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url+infoPath, nil)
	if err != nil {
		return nil, fmt.Errorf("emulator address %q: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach the emulator at %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the emulator at %s answered %s", url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&r.Info); err != nil || r.SubscriptionID == "" || len(r.Regions) == 0 {
		return nil, fmt.Errorf("the emulator at %s did not say what it emulates (%v)", url, err)
	}
	return r, nil
}

// ClientOptions are the options of every armcompute and armnetwork client
// that talks to the remote emulator: its address as Resource Manager's, and
// the API name of each request in a header.
func (r *Remote) ClientOptions() *arm.ClientOptions {
	endpoint := azcloud.Configuration{
		ActiveDirectoryAuthorityHost: r.url + "/",
		Services: map[azcloud.ServiceName]azcloud.ServiceConfiguration{
			azcloud.ResourceManager: {Endpoint: r.url, Audience: r.url},
		},
	}
	return &arm.ClientOptions{ClientOptions: azcore.ClientOptions{
		Cloud: endpoint, Transport: r.transport, PerCallPolicies: []policy.Policy{apiName{emulator: r.url}},
	}}
}

// PricesURL is the address of the remote emulator's price list, in the
// Azure Retail Prices API's shape; HTTPClient is the client that trusts it.
func (r *Remote) PricesURL() string { return r.url + pricesPath }

// HTTPClient is the HTTP client that trusts the remote emulator.
func (r *Remote) HTTPClient() *http.Client { return r.transport }

// Credential is the credential of the remote emulator's clients; it checks
// none.
func (r *Remote) Credential() azcore.TokenCredential { return &azfake.TokenCredential{} }

// apiName puts the request's API name, from its context, in APINameHeader,
// and sends a registry read, which names a registry's host, to the
// emulator, the host in registryHostHeader.
type apiName struct{ emulator string }

// registryHostHeader carries the registry a read was meant for.
const registryHostHeader = "X-Instancehub-Registry-Host"

func (a apiName) Do(req *policy.Request) (*http.Response, error) {
	name, ok := req.Raw().Context().Value(runtime.CtxAPINameKey{}).(string)
	if ok {
		req.Raw().Header.Set(APINameHeader, name)
	}
	if name == RegistryManifestAPI {
		u, err := url.Parse(a.emulator)
		if err != nil {
			return nil, err
		}
		req.Raw().Header.Set(registryHostHeader, req.Raw().URL.Host)
		req.Raw().URL.Scheme, req.Raw().URL.Host, req.Raw().Host = u.Scheme, u.Host, ""
	}
	return req.Next()
}
