package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

// The container registries, as far as the portal reads them: the manifest
// a tag names, whose digest the VMs then pull by (RStudio's image). The
// emulator answers for every registry, without sign-in, with a manifest list
// made up from the reference, so that offline a tag has one digest, as it
// does in a registry until it is pushed again.

// RegistryManifestAPI is the API name a registry read carries.
const RegistryManifestAPI = "RegistryClient.GetManifest"

const ociIndex = "application/vnd.oci.image.index.v1+json"

func (e *Emulator) registry(req *http.Request) (*http.Response, error) {
	repo, tag, ok := strings.Cut(strings.TrimPrefix(req.URL.Path, "/v2/"), "/manifests/")
	if !ok || !strings.HasPrefix(req.URL.Path, "/v2/") || repo == "" || tag == "" || (req.Method != http.MethodGet && req.Method != http.MethodHead) {
		resp := newResponse(req, http.StatusNotFound, []byte(`{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}`))
		resp.Header.Set("Content-Type", "application/json")
		return resp, nil
	}
	platform := func(arch string) map[string]any {
		sum := sha256.Sum256([]byte(req.URL.Host + "/" + repo + ":" + tag + "/" + arch))
		return map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + hex.EncodeToString(sum[:]),
			"size": 1024, "platform": map[string]string{"architecture": arch, "os": "linux"}}
	}
	body, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": ociIndex, "manifests": []any{platform("amd64"), platform("arm64")}})
	sum := sha256.Sum256(body)
	if req.Method == http.MethodHead {
		body = nil
	}
	resp := newResponse(req, http.StatusOK, body)
	resp.Header.Set("Content-Type", ociIndex)
	resp.Header.Set("Docker-Content-Digest", "sha256:"+hex.EncodeToString(sum[:]))
	return resp, nil
}
