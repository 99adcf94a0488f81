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
	case re.StatusCode == http.StatusConflict:
		e.Code = instancehub.ECONFLICT
	case re.StatusCode == http.StatusBadRequest:
		e.Code = instancehub.EINVALID
	case re.StatusCode < http.StatusBadRequest:
		// A long-running operation Azure carried out and reported as failed.
		e.Code = instancehub.ECLOUD
	case re.StatusCode == http.StatusTooManyRequests:
		e.Code = instancehub.EUNAVAILABLE
		e.Message = "Azure is throttling the portal's requests; try again in a minute. " + message
	default:
		e.Code = instancehub.EUNAVAILABLE
	}
	return e
}

// armError reads the code and message of an ARM error response
// ({"error":{"code":"…","message":"…"}}), falling back to what the SDK knows.
func armError(re *azcore.ResponseError) (code, message string) {
	code = re.ErrorCode
	if re.RawResponse != nil {
		if body, err := runtime.Payload(re.RawResponse); err == nil && len(body) > 0 {
			var payload struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if json.Unmarshal(body, &payload) == nil {
				if payload.Error.Code != "" {
					code = payload.Error.Code
				}
				message = payload.Error.Message
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

// notFound reports whether Azure answered 404 Not Found.
func notFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}
