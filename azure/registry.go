package azure

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/instancehub/instancehub"
)

// RStudio runs from a container image the operator names, in any registry
// (an Azure Container Registry, which the VMs sign in to with a managed
// identity: Config.RegistryIdentity), and every VM runs it by digest. A
// reference with a tag is read from the registry once in a while, as the
// VM image's "latest" is: anonymously, as public registries allow; a
// private registry's image is named pinned by digest. Docker Hub, which
// allowed it anonymously at 10 pulls an hour per address (every VM behind
// one NAT gateway shares one), is no longer the default.

// DefaultRStudioImage is what RStudio runs from unless the operator names
// another image: the one Azure ML's own documentation gives for RStudio on
// a compute instance.
const DefaultRStudioImage = "ghcr.io/azure/rocker-rstudio-ml-verse:latest"

// RegistryManifestAPI names the registry reads (a manifest's digest, and
// the anonymous token they may need): the emulator answers them.
const RegistryManifestAPI = "RegistryClient.GetManifest"

// imageRef is a container image reference, "registry/repository:tag" or
// "registry/repository@sha256:…", as docker reads it.
type imageRef struct {
	Registry, Repository, Tag, Digest string
}

var (
	registryHost   = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]{1,5})?$`)
	repositoryPath = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	imageTag       = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	imageDigest    = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
)

// parseImageReference reads a container image reference as docker does: a
// first part with a dot or a port, or localhost, names the registry
// (Docker Hub otherwise, "library/" for its official images); the tag is
// "latest" unless named.
func parseImageReference(s string) (imageRef, error) {
	bad := func(why string) (imageRef, error) {
		return imageRef{}, fmt.Errorf("image %q: %s (such as %s, or one pinned, name@sha256:…)", s, why, DefaultRStudioImage)
	}
	if len(s) > 512 || strings.ContainsAny(s, " \t\r\n'\"\\$`") {
		return bad("not an image reference")
	}
	var r imageRef
	rest := s
	if name, digest, ok := strings.Cut(rest, "@"); ok {
		if !imageDigest.MatchString(digest) {
			return bad("its digest is not sha256:<64 hex digits>")
		}
		rest, r.Digest = name, digest
	}
	if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		rest, r.Tag = rest[:i], rest[i+1:]
		if !imageTag.MatchString(r.Tag) {
			return bad("its tag is not valid")
		}
	}
	first, path, ok := strings.Cut(rest, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		if !registryHost.MatchString(first) {
			return bad("its registry is not a host name")
		}
		r.Registry, r.Repository = strings.ToLower(first), path
	} else {
		r.Registry, r.Repository = "docker.io", rest
		if !ok {
			r.Repository = "library/" + rest
		}
	}
	if !repositoryPath.MatchString(r.Repository) {
		return bad("its repository is not valid")
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	return r, nil
}

// CheckImageReference says what is wrong with a container image reference,
// nil when docker can pull by it.
func CheckImageReference(s string) error {
	_, err := parseImageReference(s)
	return err
}

// String is the reference, its registry named.
func (r imageRef) String() string {
	s := r.Registry + "/" + r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// pinned is the reference by digest alone, as the VMs run it.
func (r imageRef) pinned(digest string) string { return r.Registry + "/" + r.Repository + "@" + digest }

// apiHost is where the registry's API answers: Docker Hub's is not its name.
func (r imageRef) apiHost() string {
	if r.Registry == "docker.io" {
		return "registry-1.docker.io"
	}
	return r.Registry
}

// manifestTypes are the manifests a registry may hold for a tag, a list of
// platforms first, as docker asks for them: the digest docker pulls by is
// the one of the manifest it is given.
var manifestTypes = strings.Join([]string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}, ", ")

// registryTimeout bounds the reading of a tag's digest, retries included.
const registryTimeout = 30 * time.Second

// maxManifest bounds a manifest read to compute its digest.
const maxManifest = 4 << 20

// pinnedImages remembers the digest each tag last had, so that a registry
// out of reach for a while holds up no create.
type pinnedImages struct {
	mu   sync.Mutex
	last map[string]string
}

// rstudioImage is the digest of the RStudio image a new VM runs: the one
// configured, or the one its tag names now (read at most every CacheTTL),
// or, while the registry cannot be read, the one it named last.
func (c *Cloud) rstudioImage(ctx context.Context) (string, error) {
	ref := c.rstudio
	if ref.Digest != "" {
		return ref.Digest, nil
	}
	digest, err := cached(&c.catalog, "rstudio/"+ref.String(), func() (string, error) { return c.manifestDigest(ctx, ref) })
	c.pins.mu.Lock()
	defer c.pins.mu.Unlock()
	if err != nil {
		if last := c.pins.last[ref.String()]; last != "" {
			return last, nil
		}
		return "", err
	}
	if c.pins.last == nil {
		c.pins.last = map[string]string{}
	}
	c.pins.last[ref.String()] = digest
	return digest, nil
}

// manifestDigest asks the registry which manifest ref's tag names, with the
// anonymous token the registry's challenge asks for (Docker's token
// authentication), and returns its digest.
func (c *Cloud) manifestDigest(ctx context.Context, ref imageRef) (string, error) {
	unreadable := func(why string) error {
		return instancehub.Errorf(instancehub.EUNAVAILABLE,
			"The digest of RStudio's image %s could not be read: %s. Name the image pinned by digest (--azure-rstudio-image %s@sha256:…), as a private registry's must be.",
			ref, why, ref.Registry+"/"+ref.Repository)
	}
	// A registry out of reach holds up the create that asked for no longer.
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, runtime.CtxAPINameKey{}, RegistryManifestAPI), registryTimeout)
	defer cancel()
	manifest := "https://" + ref.apiHost() + "/v2/" + ref.Repository + "/manifests/" + ref.Tag
	token := ""
	for try := 0; try < 2; try++ {
		resp, err := c.registryGet(ctx, http.MethodGet, manifest, token, manifestTypes)
		if err != nil {
			return "", unreadable("the registry could not be reached")
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifest+1))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusUnauthorized && token == "":
			if token, err = c.anonymousToken(ctx, resp.Header.Get("WWW-Authenticate"), ref); err != nil {
				return "", unreadable(err.Error())
			}
			continue
		case resp.StatusCode != http.StatusOK:
			return "", unreadable(fmt.Sprintf("the registry answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode)))
		case err != nil || len(body) > maxManifest:
			return "", unreadable("its manifest could not be read")
		}
		// The digest is the manifest's own SHA-256, which the registry's
		// Docker-Content-Digest header, when sent, must agree with.
		sum := sha256.Sum256(body)
		digest := "sha256:" + hex.EncodeToString(sum[:])
		if sent := resp.Header.Get("Docker-Content-Digest"); sent != "" && sent != digest {
			return "", unreadable("the registry's digest is not its manifest's")
		}
		return digest, nil
	}
	return "", unreadable("the registry refused its own token")
}

// anonymousToken follows a registry's Bearer challenge:
// realm="https://…",service="…",scope="repository:…:pull".
func (c *Cloud) anonymousToken(ctx context.Context, challenge string, ref imageRef) (string, error) {
	scheme, params, _ := strings.Cut(challenge, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("the registry asks for a sign-in (%s), not an anonymous token", strings.TrimSpace(scheme))
	}
	p := map[string]string{}
	for _, m := range challengeParam.FindAllStringSubmatch(params, -1) {
		p[strings.ToLower(m[1])] = m[2]
	}
	realm, err := url.Parse(p["realm"])
	if err != nil || realm.Scheme != "https" || realm.Host == "" {
		return "", fmt.Errorf("the registry's token service is not an https address")
	}
	q := realm.Query()
	if p["service"] != "" {
		q.Set("service", p["service"])
	}
	q.Set("scope", "repository:"+ref.Repository+":pull")
	realm.RawQuery = q.Encode()
	resp, err := c.registryGet(ctx, http.MethodGet, realm.String(), "", "application/json")
	if err != nil {
		return "", fmt.Errorf("the registry's token service could not be reached")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the registry gives no anonymous token (%d %s)", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	var t struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&t); err != nil || t.Token+t.AccessToken == "" {
		return "", fmt.Errorf("the registry's token service answered no token")
	}
	if t.Token != "" {
		return t.Token, nil
	}
	return t.AccessToken, nil
}

var challengeParam = regexp.MustCompile(`([A-Za-z]+)="([^"]*)"`)

// registryGet sends a registry request through the clients' transport,
// without their ARM token.
func (c *Cloud) registryGet(ctx context.Context, method, address, token, accept string) (*http.Response, error) {
	req, err := runtime.NewRequest(ctx, method, address)
	if err != nil {
		return nil, err
	}
	req.Raw().Header.Set("Accept", accept)
	if token != "" {
		req.Raw().Header.Set("Authorization", "Bearer "+token)
	}
	runtime.SkipBodyDownload(req)
	return c.blobs.Do(req)
}
