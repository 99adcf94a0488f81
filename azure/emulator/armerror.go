package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// armError is an error as ARM reports it. Handlers hand it to the fakes with
// ErrorResponder.SetError (SetResponseError would drop the message) and the
// front door turns it into a real response, so azcore builds the
// *azcore.ResponseError callers see from status, header and body alike.
type armError struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *armError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func armErr(status int, code, format string, args ...any) *armError {
	return &armError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// body is the error in ARM's JSON shape.
func (e *armError) body() []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": e.Code, "message": e.Message}})
	return b
}

// response is the error as ARM would send it, answering req.
func (e *armError) response(req *http.Request) *http.Response {
	resp := newResponse(req, e.Status, e.body())
	resp.Header.Set("x-ms-error-code", e.Code)
	return resp
}

// newResponse builds a response with a JSON body (none when body is nil).
// Request must be set: azcore reads it for errors and pollers.
func newResponse(req *http.Request, status int, body []byte) *http.Response {
	resp := &http.Response{
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{},
		Body:          http.NoBody,
		ContentLength: int64(len(body)),
		Request:       req,
	}
	if body != nil {
		resp.Header.Set("Content-Type", "application/json; charset=utf-8")
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp
}

// notFound is ARM's answer for a resource that does not exist.
func notFound(typ, name, rg string) *armError {
	return armErr(http.StatusNotFound, "ResourceNotFound",
		"The Resource '%s/%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		providerOf(typ), typ, name, rg)
}

// locationNotAvailable refuses a region the emulator does not offer; fullType
// is like "Microsoft.Compute/virtualMachines".
func locationNotAvailable(location, fullType string) *armError {
	names := make([]string, len(regions))
	for i, r := range regions {
		names[i] = r.Name
	}
	return armErr(http.StatusBadRequest, "LocationNotAvailableForResourceType",
		"The provided location '%s' is not available for resource type '%s'. List of available regions for the resource type is '%s'.",
		location, fullType, strings.Join(names, ","))
}

func invalidLocation(typ, name, rg, existing, requested string) *armError {
	return armErr(http.StatusBadRequest, "InvalidResourceLocation",
		"The resource '%s' already exists in location '%s' in resource group '%s'. A resource with the same name cannot be created in location '%s'. Please select a new resource name.",
		name, existing, rg, requested)
}

// invalidReference is the network resource provider's answer for a reference
// to a resource that does not exist or lives in another region.
func invalidReference(ref, by string) *armError {
	return armErr(http.StatusBadRequest, "InvalidResourceReference",
		"Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.",
		ref, by)
}

func invalidParameter(format string, args ...any) *armError {
	return armErr(http.StatusBadRequest, "InvalidParameter", format, args...)
}

func anotherOperation(id string) *armError {
	return armErr(http.StatusConflict, "AnotherOperationInProgress",
		"Another operation on this or dependent resource is in progress. To retrieve status of the operation use uri: https://management.azure.com%s/operations. Resource: %s", id, id)
}
