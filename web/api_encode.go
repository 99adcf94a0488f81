package web

import (
	"maps"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// The paged list of computes is the API's busiest answer, and encoding/json
// spent half its time walking the wire types by reflection. These append
// the same bytes by hand: TestComputeEncoderMatchesEncodingJSON fills every
// field of the wire types by reflection and compares with marshalJSON, so
// a field added to a type and not here fails it.

// appendComputeList appends out as marshalJSON writes it, newline included.
func appendComputeList(b []byte, out *listJSON[computeJSON]) []byte {
	b = append(b, `{"value":`...)
	if out.Value == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range out.Value {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCompute(b, &out.Value[i])
		}
		b = append(b, ']')
	}
	return appendListEnd(b, out.Count, out.NextLink)
}

// appendListEnd appends a list's count and next link after its value, and
// ends it.
func appendListEnd(b []byte, count int, nextLink string) []byte {
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(count), 10)
	if nextLink != "" {
		b = appendField(b, "nextLink", nextLink)
	}
	return append(b, "}\n"...)
}

// appendCompute appends v as encoding/json writes it (without a newline).
func appendCompute(b []byte, v *computeJSON) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, v.ID)
	b = appendField(b, "name", v.Name)
	b = appendField(b, "type", v.Type)
	b = appendField(b, "location", v.Location)
	if len(v.Tags) > 0 {
		b = append(b, `,"tags":{`...)
		for i, k := range slices.Sorted(maps.Keys(v.Tags)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, v.Tags[k])
		}
		b = append(b, '}')
	}
	if id := v.Identity; id != nil {
		b = append(b, `,"identity":{"type":`...)
		b = appendString(b, id.Type)
		if len(id.UserAssignedIdentities) > 0 {
			b = append(b, `,"userAssignedIdentities":{`...)
			for i, k := range slices.Sorted(maps.Keys(id.UserAssignedIdentities)) {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, k)
				b = append(b, ":{}"...)
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	p := &v.Properties
	b = append(b, `,"properties":{"computeType":`...)
	b = appendString(b, p.ComputeType)
	b = appendField(b, "computeLocation", p.ComputeLocation)
	if p.Description != "" {
		b = appendField(b, "description", p.Description)
	}
	b = appendField(b, "provisioningState", p.ProvisioningState)
	b = append(b, `,"createdOn":`...)
	b = appendTime(b, p.CreatedOn)
	b = append(b, `,"modifiedOn":`...)
	b = appendTime(b, p.ModifiedOn)
	b = append(b, `,"properties":`...)
	b = appendSettings(b, &p.Properties)
	return append(b, "}}"...)
}

func appendSettings(b []byte, p *computeInstanceSettings) []byte {
	b = append(b, `{"vmSize":`...)
	b = appendString(b, p.VMSize)
	b = appendField(b, "state", p.State)
	b = append(b, `,"applications":`...)
	if p.Applications == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, app := range p.Applications {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"displayName":`...)
			b = appendString(b, app.DisplayName)
			b = appendField(b, "endpointUri", app.EndpointURI)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"connectivityEndpoints":{`...)
	comma := false
	if p.ConnectivityEndpoints.PublicIPAddress != "" {
		b = append(b, `"publicIpAddress":`...)
		b = appendString(b, p.ConnectivityEndpoints.PublicIPAddress)
		comma = true
	}
	if p.ConnectivityEndpoints.PrivateIPAddress != "" {
		if comma {
			b = append(b, ',')
		}
		b = append(b, `"privateIpAddress":`...)
		b = appendString(b, p.ConnectivityEndpoints.PrivateIPAddress)
	}
	ssh := &p.SSHSettings
	b = append(b, `},"sshSettings":{"sshPublicAccess":`...)
	b = appendString(b, ssh.SSHPublicAccess)
	b = appendField(b, "adminUserName", ssh.AdminUserName)
	b = append(b, `,"sshPort":`...)
	b = strconv.AppendInt(b, int64(ssh.SSHPort), 10)
	if ssh.AdminPublicKey != "" {
		b = appendField(b, "adminPublicKey", ssh.AdminPublicKey)
	}
	b = append(b, `},"subnet":{"virtualNetwork":`...)
	b = appendString(b, p.Subnet.VirtualNetwork)
	b = appendField(b, "name", p.Subnet.Name)
	b = append(b, `},"createdBy":`...)
	b = appendPerson(b, &p.CreatedBy)
	if p.AssignedUser != nil {
		b = append(b, `,"assignedUser":`...)
		b = appendPerson(b, p.AssignedUser)
	}
	if op := p.LastOperation; op != nil {
		b = append(b, `,"lastOperation":{"operationName":`...)
		b = appendString(b, op.OperationName)
		b = appendField(b, "operationStatus", op.OperationStatus)
		b = append(b, `,"operationTime":`...)
		b = appendTime(b, op.OperationTime)
		b = appendField(b, "operationTrigger", op.OperationTrigger)
		b = append(b, '}')
	}
	if p.Schedules != nil {
		b = append(b, `,"schedules":{"computeStartStop":`...)
		b = appendSchedules(b, p.Schedules.ComputeStartStop)
		b = append(b, '}')
	}
	if p.IdleTimeBeforeShutdown != "" {
		b = appendField(b, "idleTimeBeforeShutdown", p.IdleTimeBeforeShutdown)
	}
	if img := p.OSImageMetadata; img != nil {
		b = append(b, `,"osImageMetadata":{"currentImageVersion":`...)
		b = appendString(b, img.CurrentImageVersion)
		b = appendField(b, "latestImageVersion", img.LatestImageVersion)
		b = append(b, `,"isLatestOsImageVersion":`...)
		b = strconv.AppendBool(b, img.IsLatestOsImageVersion)
		b = append(b, '}')
	}
	if s := p.SetupScripts; s != nil {
		b = append(b, `,"setupScripts":{"scripts":{`...)
		if s.Scripts.CreationScript != nil {
			b = append(b, `"creationScript":`...)
			b = appendScript(b, s.Scripts.CreationScript)
			if s.Scripts.StartupScript != nil {
				b = append(b, ',')
			}
		}
		if s.Scripts.StartupScript != nil {
			b = append(b, `"startupScript":`...)
			b = appendScript(b, s.Scripts.StartupScript)
		}
		b = append(b, "}}"...)
	}
	if len(p.Errors) > 0 {
		b = append(b, `,"errors":`...)
		b = appendErrorBodies(b, p.Errors)
	}
	return append(b, '}')
}

func appendPerson(b []byte, p *personJSON) []byte {
	b = append(b, `{"userName":`...)
	b = appendString(b, p.UserName)
	b = appendField(b, "userId", p.UserID)
	return append(b, '}')
}

func appendScript(b []byte, s *scriptJSON) []byte {
	b = append(b, `{"scriptSource":`...)
	b = appendString(b, s.ScriptSource)
	b = appendField(b, "scriptData", s.ScriptData)
	if s.ScriptArguments != "" {
		b = appendField(b, "scriptArguments", s.ScriptArguments)
	}
	b = appendField(b, "timeout", s.Timeout)
	return append(b, '}')
}

func appendSchedules(b []byte, schedules []scheduleJSON) []byte {
	if schedules == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range schedules {
		sch := &schedules[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, sch.ID)
		b = appendField(b, "status", sch.Status)
		b = appendField(b, "action", sch.Action)
		b = appendField(b, "triggerType", sch.TriggerType)
		if sch.Cron != nil {
			b = append(b, `,"cron":{"expression":`...)
			b = appendString(b, sch.Cron.Expression)
			b = appendField(b, "timeZone", sch.Cron.TimeZone)
			b = append(b, '}')
		}
		if r := sch.Recurrence; r != nil {
			b = append(b, `,"recurrence":{"frequency":`...)
			b = appendString(b, r.Frequency)
			b = append(b, `,"interval":`...)
			b = strconv.AppendInt(b, int64(r.Interval), 10)
			b = appendField(b, "timeZone", r.TimeZone)
			b = append(b, `,"schedule":{"hours":`...)
			b = appendInts(b, r.Schedule.Hours)
			b = append(b, `,"minutes":`...)
			b = appendInts(b, r.Schedule.Minutes)
			b = append(b, `,"weekDays":`...)
			if r.Schedule.WeekDays == nil {
				b = append(b, "null"...)
			} else {
				b = append(b, '[')
				for j, d := range r.Schedule.WeekDays {
					if j > 0 {
						b = append(b, ',')
					}
					b = appendString(b, d)
				}
				b = append(b, ']')
			}
			b = append(b, "}}"...)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendInts(b []byte, v []int) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, n := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, ']')
}

func appendErrorBodies(b []byte, errs []apiErrorBody) []byte {
	b = append(b, '[')
	for i := range errs {
		e := &errs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"code":`...)
		b = appendString(b, e.Code)
		b = appendField(b, "message", e.Message)
		if e.Target != "" {
			b = appendField(b, "target", e.Target)
		}
		if len(e.Details) > 0 {
			b = append(b, `,"details":`...)
			b = appendErrorBodies(b, e.Details)
		}
		if e.CloudCode != "" {
			b = appendField(b, "cloudCode", e.CloudCode)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendField appends ,"name":"value"; name needs no escaping.
func appendField(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// appendString appends s quoted as marshalJSON quotes it: printable ASCII
// other than " and \ as it is (< > & too: marshalJSON does not escape
// them), and anything else through encoding/json itself, so that the rare
// string that needs escaping is escaped exactly as it would be.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return appendQuoted(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendQuoted(b []byte, s string) []byte {
	q, err := marshalJSON(s)
	if err != nil { // a string always encodes (invalid UTF-8 becomes U+FFFD)
		panic(err)
	}
	return append(b, q[:len(q)-1]...) // less the newline
}

// appendTime appends t as time.Time's MarshalJSON writes it: RFC 3339 with
// nanoseconds, quoted. The portal's times (milliseconds in the store) are
// all within years 0-9999, where MarshalJSON cannot fail; a time outside
// them is written as its format gives it rather than failing the answer.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	if out, err := t.AppendText(b); err == nil {
		b = out
	} else {
		b = t.AppendFormat(b, time.RFC3339Nano)
	}
	return append(b, '"')
}
