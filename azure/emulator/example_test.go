package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"

	"github.com/instancehub/instancehub/azure/emulator"
)

// The real SDK clients take the emulator's credential and client options.
func Example() {
	e, err := emulator.Open(emulator.Options{}) // a demo: Path: "cloud.db", Latency: 1
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	usage, err := armcompute.NewUsageClient(e.SubscriptionID(), e.Credential(), e.ClientOptions())
	if err != nil {
		log.Fatal(err)
	}
	page, err := usage.NewListPager("eastus", nil).NextPage(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	total := page.Value[0]
	fmt.Println(*total.Name.Value, *total.CurrentValue, *total.Limit)

	vms, err := armcompute.NewVirtualMachinesClient(e.SubscriptionID(), e.Credential(), e.ClientOptions())
	if err != nil {
		log.Fatal(err)
	}
	_, err = vms.BeginStart(context.Background(), e.ResourceGroup(), "nope", nil)
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		fmt.Println(re.StatusCode, re.ErrorCode)
	}
	// Output:
	// cores 0 100
	// 404 ResourceNotFound
}
