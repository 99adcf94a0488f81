package azure_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/go-openapi/spec"
	"github.com/go-openapi/strfmt"
	"github.com/go-openapi/validate"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
)

// nsgFile is Network's description of network security groups at the API
// version of armnetwork/v9, 2025-05-01, with the common definitions it
// refers to beside it (network.json).
const nsgFile = "specification/network/resource-manager/Microsoft.Network/Network/stable/2025-05-01/networkSecurityGroup.json"

const nsgTemplate = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/networkSecurityGroups/{networkSecurityGroupName}"

// schemaOf is ref, a schema of the operation's file, expanded against that
// file and the files beside it. The expansion continues past references to
// files not kept here (networkSecurityGroup.json refers to networkInterface.json,
// virtualNetwork.json, networkWatcher.json and applicationSecurityGroup.json
// for read-only or unused properties): a body or answer that reaches one
// fails validation instead of passing it (see validateAgainst).
func (o operation) schemaOf(t *testing.T, schema spec.Schema) *spec.Schema {
	t.Helper()
	base, err := filepath.Abs(filepath.Join(specs, filepath.FromSlash(o.file)))
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.ExpandSchemaWithBasePath(&schema, nil, &spec.ExpandOptions{RelativeBase: base, ContinueOnError: true}); err != nil {
		t.Fatalf("%s: %v", o.op.ID, err)
	}
	return &schema
}

// bodySchema is the schema of the operation's body parameter.
func (o operation) bodySchema(t *testing.T) *spec.Schema {
	t.Helper()
	for _, p := range o.op.Parameters {
		if p.In == "body" && p.Schema != nil {
			return o.schemaOf(t, *p.Schema)
		}
	}
	t.Fatalf("%s takes no body", o.op.ID)
	return nil
}

// answerSchema is the schema of the operation's answer of status.
func (o operation) answerSchema(t *testing.T, status int) *spec.Schema {
	t.Helper()
	resp, ok := o.op.Responses.StatusCodeResponses[status]
	if !ok || resp.Schema == nil {
		t.Fatalf("%s has no schema for %d", o.op.ID, status)
	}
	return o.schemaOf(t, *resp.Schema)
}

// validateAgainst is validateJSON, with a reference the expansion could not
// follow (to a file not kept here) reported as an error where go-openapi's
// validator panics on it.
func validateAgainst(schema *spec.Schema, body []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the body reaches a schema not kept in testdata/specs: %v", r)
		}
	}()
	var data any
	if err := json.Unmarshal(body, &data); err != nil {
		return err
	}
	return validate.AgainstSchema(schema, data, strfmt.Default)
}

// TestContractSecurityGroups: every network security group the azure
// package sends, for every choice that changes it (SSH on and off, on
// another port, with and without the operator's SSH and portal ranges),
// validates against NetworkSecurityGroups_CreateOrUpdate's body schema at
// 2025-05-01, and every answer the emulator gives for one (its GET, read
// before a delete) against NetworkSecurityGroups_Get's 200 schema; so does
// Microsoft's own example answer, which shows that the schema and the
// validator agree with Azure. The validator is shown to refuse a rule
// without a priority and one whose protocol is not of the spec's spelling,
// so that the check cannot pass by checking nothing.
func TestContractSecurityGroups(t *testing.T) {
	put := loadOperation(t, nsgFile, http.MethodPut, nsgTemplate)
	get := loadOperation(t, nsgFile, http.MethodGet, nsgTemplate)
	body, answer := put.bodySchema(t), get.answerSchema(t, http.StatusOK)

	if err := validateAgainst(answer, loadExample(t, networkExamples+"NetworkSecurityGroupGet.json").recorded(t, 200).body); err != nil {
		t.Fatalf("Microsoft's example answer does not validate: %v", err)
	}
	for _, wrong := range []string{
		`{"location":"eastus","properties":{"securityRules":[{"name":"r","properties":{"access":"Allow","direction":"Inbound","protocol":"Tcp"}}]}}`,
		`{"location":"eastus","properties":{"securityRules":[{"name":"r","properties":{"access":"Allow","direction":"Inbound","priority":100,"protocol":"TCP"}}]}}`,
	} {
		if err := validateAgainst(body, []byte(wrong)); err == nil {
			t.Errorf("the body schema takes %s", wrong)
		}
	}

	emu, err := emulator.Open(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	rec := &recorder{next: emu.ClientOptions().Transport}
	opts := emu.ClientOptions()
	opts.Transport = rec
	base := azure.Config{SubscriptionID: emu.SubscriptionID(), ResourceGroup: emu.ResourceGroup(), Regions: emu.Regions(), PortalID: "test-portal"}
	ranges := base
	ranges.PublicIP, ranges.SSHSourceRange, ranges.AppSourceRange = true, "203.0.113.0/24", "10.9.0.0/24"
	otherPort := instance("port-box", "Standard_DS1_v2", true)
	otherPort.SSHPort = 2222
	clouds := []struct {
		cfg       azure.Config
		instances []*instancehub.Instance
	}{
		{ranges, []*instancehub.Instance{instance("open-box", "Standard_DS1_v2", true), instance("shut-box", "Standard_DS1_v2", false), otherPort}},
		{base, []*instancehub.Instance{instance("bare-box", "Standard_DS1_v2", true)}},
	}
	want := 0
	for _, cl := range clouds {
		c, err := azure.New(cl.cfg, emu.Credential(), opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, inst := range cl.instances {
			for _, op := range []instancehub.OperationKind{instancehub.OpCreate, instancehub.OpDelete} {
				if err := run(t, c, op, inst); err != nil {
					t.Fatalf("%s %s: %v", op, inst.Name, err)
				}
			}
			want++
		}
	}

	sent, answered := 0, 0
	for _, x := range rec.exchanges() {
		if !put.matches(x.path) {
			continue
		}
		switch {
		case x.method == http.MethodPut:
			sent++
			if err := validateAgainst(body, x.request); err != nil {
				t.Errorf("PUT %s: the body the azure package sent is not a NetworkSecurityGroup of 2025-05-01: %v\n%s", x.path, err, x.request)
			}
			if (x.status == http.StatusOK || x.status == http.StatusCreated) && len(x.response) > 0 {
				if err := validateAgainst(put.answerSchema(t, x.status), x.response); err != nil {
					t.Errorf("PUT %s: the emulator's %d answer does not validate: %v\n%s", x.path, x.status, err, x.response)
				}
			}
		case x.method == http.MethodGet && x.status == http.StatusOK:
			answered++
			if err := validateAgainst(answer, x.response); err != nil {
				t.Errorf("GET %s: the emulator's answer does not validate: %v\n%s", x.path, err, x.response)
			}
		}
	}
	if sent != want || answered != want {
		t.Errorf("%d bodies and %d answers checked, want %d of each (one per instance)", sent, answered, want)
	}
}
