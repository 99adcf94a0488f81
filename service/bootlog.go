package service

import (
	"context"

	"github.com/instancehub/instancehub"
)

// BootLog reads the end of what the named instance's VM printed to its
// serial console while it booted, where a start that failed before any
// application answered shows why. Owners only (instances/boot-log); each
// read is audited, as it shows another person's machine. When the cloud
// keeps no log (boot diagnostics off, no VM, not booted yet), the page says
// why, and the audit event records the read as failed with that reason.
func (s *Service) BootLog(ctx context.Context, name string) (*instancehub.BootLogPage, error) {
	page, err := s.bootLog(ctx, name)
	audited := err
	if err == nil && page.Unavailable != "" {
		audited = instancehub.Errorf(instancehub.EUNAVAILABLE, "%s", page.Unavailable)
	}
	s.record(ctx, "instance.boot-log", name, audited)
	return page, err
}

func (s *Service) bootLog(ctx context.Context, name string) (*instancehub.BootLogPage, error) {
	if _, err := authorize(ctx, instancehub.PermReadBootLogs, "read the boot logs of instances"); err != nil {
		return nil, err
	}
	inst, err := s.liveInstance(ctx, name)
	if err != nil {
		return nil, err
	}
	page := &instancehub.BootLogPage{Instance: inst}
	logs, ok := s.Cloud.(instancehub.BootLogs)
	if !ok {
		page.Unavailable = "This portal's cloud keeps no boot logs."
		return page, nil
	}
	page.Log, err = logs.BootLog(ctx, inst)
	switch instancehub.ErrorCode(err) {
	case "":
	case instancehub.ENOTFOUND:
		page.Unavailable = inst.Name + " has no virtual machine in Azure: it was never made, or it is gone."
	case instancehub.EUNAVAILABLE:
		page.Unavailable = instancehub.ErrorMessage(err)
	default:
		return nil, err
	}
	return page, nil
}
