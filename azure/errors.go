package azure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/instancehub/instancehub"
)

// cloudError turns an SDK error into an *instancehub.Error that carries
// Azure's own code and message, so that the user reads what Azure said.
func cloudError(err error, doing string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", doing, err)
	}
	var own *instancehub.Error
	if errors.As(err, &own) {
		return err
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return &instancehub.Error{
			Code:    instancehub.EUNAVAILABLE,
			Message: fmt.Sprintf("Azure could not be reached to %s: %v", doing, err),
		}
	}
	code, message := armError(re)
	e := &instancehub.Error{CloudCode: code, Message: message}
	switch {
	case re.StatusCode == http.StatusNotFound:
		e.Code = instancehub.ENOTFOUND
	case isQuota(code, message):
		e.Code = instancehub.EQUOTA
		e.Message = quotaMessage(message)
	case re.StatusCode == http.StatusConflict, code == "NicReservedForAnotherVm":
		// Network answers 400 while a network interface is still held for
		// the VM it belonged to: a refusal for the state of a resource.
		e.Code = instancehub.ECONFLICT
	case re.StatusCode == http.StatusBadRequest:
		e.Code = instancehub.EINVALID
	case re.StatusCode < http.StatusBadRequest:
		// A long-running operation Azure carried out and reported as failed.
		e.Code = instancehub.ECLOUD
	case re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden:
		// The portal's identity lacks a permission: asking again will not
		// help, and the resources made so far are still the portal's to
		// clean up.
		e.Code = instancehub.ECLOUD
		e.Message = permissionMessage(re, message)
	case re.StatusCode == http.StatusTooManyRequests:
		e.Code = instancehub.EUNAVAILABLE
		e.Message = "Azure is throttling the portal's requests; try again in a minute. " + message
	default:
		e.Code = instancehub.EUNAVAILABLE
	}
	return e
}

// armError reads the code and message of an ARM error response
// ({"error":{"code":"…","message":"…"}}, or Compute's throttling answer
// with the code and message at the top), falling back to what the SDK
// knows.
func armError(re *azcore.ResponseError) (code, message string) {
	code = re.ErrorCode
	if re.RawResponse != nil {
		if body, err := runtime.Payload(re.RawResponse); err == nil && len(body) > 0 {
			type detail struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			}
			var payload struct {
				Error *detail `json:"error"`
				detail
			}
			if json.Unmarshal(body, &payload) == nil {
				d := payload.detail
				if payload.Error != nil {
					d = *payload.Error
				}
				if d.Code != "" {
					code = d.Code
				}
				message = d.Message
			}
		}
	}
	if message == "" {
		message = fmt.Sprintf("Azure refused the request (%d %s).", re.StatusCode, code)
	}
	return code, message
}

// armQuota reads Azure's quota refusal: "…exceeding approved
// standardNCSv3Family Cores quota. Additional details - Deployment Model:
// Resource Manager, Location: eastus, Current Limit: 24, Current Usage: 18,
// Additional Required: 12, …" ("Total Regional Cores" for the total).
var armQuota = regexp.MustCompile(`exceeding approved (.+?) Cores quota.*?Location: ([^,]+), Current Limit: (\d+), Current Usage: (\d+), Additional Required: (\d+)`)

// quotaMessage turns Azure's quota refusal into the portal's one sentence,
// keeping Azure's own words when they cannot be read.
func quotaMessage(message string) string {
	m := armQuota.FindStringSubmatch(message)
	if m == nil {
		return message
	}
	family := m[1]
	if strings.EqualFold(family, "Total Regional") {
		family = instancehub.TotalRegionalVCPUs
	}
	limit, _ := strconv.Atoi(m[3])
	used, _ := strconv.Atoi(m[4])
	requested, _ := strconv.Atoi(m[5])
	return instancehub.QuotaMessage(instancehub.LevelSubscription, m[2], family, requested, used, limit) + " (Azure refused the request.)"
}

func isQuota(code, message string) bool {
	return code == "OperationNotAllowed" && strings.Contains(strings.ToLower(message), "quota")
}

// permissionMessage names the action Azure refused, read from the request's
// path, so that the operator knows what to add to the portal's role.
func permissionMessage(re *azcore.ResponseError, message string) string {
	if re.RawResponse == nil || re.RawResponse.Request == nil {
		return "The portal's identity is not allowed to do this. " + message
	}
	return fmt.Sprintf("The portal's identity lacks the permission %s: add it to the portal's role (see the README). Azure said: %s",
		actionOf(re.RawResponse.Request.Method, re.RawResponse.Request.URL.Path), message)
}

// actionOf is the ARM action a request needs: the provider and the resource
// types of its path, then the verb, as in
// /subscriptions/s/providers/Microsoft.Network/locations/eastus/operations/op-1
// → Microsoft.Network/locations/operations/read.
func actionOf(method, path string) string {
	_, rest, found := cutLast(path, "/providers/")
	if !found {
		return "Microsoft.Resources/subscriptions/resourceGroups/read"
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) < 2 {
		return rest
	}
	action := []string{parts[0]}
	for i := 1; i < len(parts); i += 2 {
		action = append(action, parts[i])
	}
	switch method {
	case http.MethodPut, http.MethodPatch:
		return strings.Join(action, "/") + "/write"
	case http.MethodDelete:
		return strings.Join(action, "/") + "/delete"
	case http.MethodPost:
		return strings.Join(action, "/") + "/action"
	}
	return strings.Join(action, "/") + "/read"
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// refused reports whether Azure refused a request for lack of permission.
func refused(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && (re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden)
}

// notFound reports whether Azure answered 404 Not Found.
func notFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}
