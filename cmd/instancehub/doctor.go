package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
)

// doctorCommand checks the configuration against Azure and prints one line
// per check, with what to do about each that fails. It exits non-zero when
// any fails.
func doctorCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	if err := parse("doctor", args, stderr, c.bindServe); err != nil {
		return err
	}
	cloud, emulated, closeCloud, err := doctorCloud(c)
	if err != nil {
		return err
	}
	defer closeCloud()
	cfg := cloud.Config()
	if emulated {
		fmt.Fprintf(stdout, "Using the offline Azure emulator (no --azure-subscription-id): the checks run the same code against a fresh emulated subscription.\n")
	} else {
		fmt.Fprintf(stdout, "Checking Azure subscription %s, resource group %s.\n", cfg.SubscriptionID, cfg.ResourceGroup)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	failed := 0
	for _, check := range cloud.Doctor(ctx, emulated) {
		fmt.Fprintf(stdout, "%-5s %-24s %s\n", check.Status, check.Name, check.Detail)
		if check.Status == "fail" {
			failed++
		}
		if check.Fix != "" && check.Status != "ok" {
			fmt.Fprintf(stdout, "%-5s %-24s fix: %s\n", "", "", check.Fix)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d checks failed", failed)
	}
	fmt.Fprintln(stdout, "All checks passed.")
	return nil
}

// doctorCloud opens the cloud as serve would; the emulator is a fresh one in
// memory, so a running portal's emulated subscription is never touched.
func doctorCloud(c Config) (*azure.Cloud, bool, func(), error) {
	if c.Azure.SubscriptionID == "" {
		quota, err := c.emulatorQuota()
		if err != nil {
			return nil, false, nil, err
		}
		emu, err := emulator.Open(emulator.Options{Quota: quota})
		if err != nil {
			return nil, false, nil, err
		}
		cfg, err := c.azureConfig(emu.SubscriptionID(), emu.ResourceGroup(), emu.Regions())
		if err != nil {
			return nil, false, nil, err
		}
		cloud, err := azure.New(cfg, emu.Credential(), emu.ClientOptions())
		return cloud, true, func() { emu.Close() }, err
	}
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, false, nil, fmt.Errorf("azure credential: %w", err)
	}
	cfg, err := c.azureConfig(c.Azure.SubscriptionID, c.Azure.ResourceGroup, c.regions())
	if err != nil {
		return nil, false, nil, err
	}
	cloud, err := azure.New(cfg, cred, nil)
	return cloud, false, func() {}, err
}
