package service_test

import (
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestInstancePermissions checks each role against each action on an
// instance of its own and on someone else's.
func TestInstancePermissions(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	other := p.EnsureUser(t, "other@example.com", "Olive Other", instancehub.RoleDataScientist)
	type outcome struct{ createOwn, createForOther, manageOwn, manageOthers bool }
	roles := map[instancehub.Role]outcome{
		instancehub.RoleOwner:           {true, true, true, true},
		instancehub.RoleContributor:     {true, true, true, true},
		instancehub.RoleComputeOperator: {true, true, true, true},
		instancehub.RoleDataScientist:   {true, false, true, false},
		instancehub.RoleReader:          {false, false, false, false},
		instancehub.RoleAuditReader:     {false, false, false, false},
	}
	// Small sizes: two dozen instances must fit the emulator's quota.
	request := func(name string) instancehub.CreateRequest {
		r := testportal.Request(name)
		r.VMSize = "Standard_DS1_v2"
		return r
	}
	i := 0
	for role, want := range roles {
		i++
		user := p.EnsureUser(t, strings.ReplaceAll(strings.ToLower(string(role)), " ", "")+"@example.com", string(role), role)
		ctx := p.As(user)
		own := request("own" + string(rune('a'+i)) + "-box")
		_, err := p.Service.CreateInstance(ctx, own)
		if (err == nil) != want.createOwn {
			t.Errorf("%s creates for themself: %v", role, err)
		}
		forOther := request("for" + string(rune('a'+i)) + "-box")
		forOther.AssignTo = other.Email
		_, err = p.Service.CreateInstance(ctx, forOther)
		if (err == nil) != want.createForOther {
			t.Errorf("%s creates for another: %v", role, err)
		}
		if !want.createForOther && err != nil && !strings.Contains(instancehub.ErrorMessage(err), "instances/") {
			t.Errorf("%s: the refusal does not name the permission: %q", role, instancehub.ErrorMessage(err))
		}
		// An instance of the user's own and one of the other user's, both running.
		mine := request("mine" + string(rune('a'+i)) + "-box")
		theirs := request("theirs" + string(rune('a'+i)) + "-box")
		theirs.AssignTo = other.Email
		for _, r := range []instancehub.CreateRequest{mine, theirs} {
			if r.AssignTo == "" {
				r.AssignTo = user.Email
			}
			if r.AssignTo == user.Email && !role.Allows(instancehub.PermManageOwn) {
				// No one may make an instance for a role that cannot use
				// it; this one is there as if made before that role came.
				p.SeedNamed(t, r.Name, user)
				continue
			}
			if _, err := p.Service.CreateInstance(p.Ctx, r); err != nil && instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
				t.Fatal(err)
			}
			p.WaitState(t, r.Name, instancehub.StateRunning)
		}
		_, err = p.Service.Act(ctx, mine.Name, instancehub.OpStop)
		if (err == nil) != want.manageOwn {
			t.Errorf("%s stops their own: %v", role, err)
		}
		_, err = p.Service.Act(ctx, theirs.Name, instancehub.OpStop)
		if (err == nil) != want.manageOthers {
			t.Errorf("%s stops another's: %v", role, err)
		}
		if !want.manageOthers && instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
			t.Errorf("%s stops another's: code %s, want forbidden", role, instancehub.ErrorCode(err))
		}
		// Reading needs instances/read, which the Audit Reader lacks.
		_, err = p.Service.ListInstances(ctx, instancehub.ListQuery{})
		if readable := role != instancehub.RoleAuditReader; (err == nil) != readable {
			t.Errorf("%s lists instances: %v", role, err)
		}
	}
	// A user with no role at all is told to ask an Owner.
	nobody := p.EnsureUser(t, "nobody@example.com", "Nobody")
	_, err := p.Service.ListInstances(p.As(nobody), instancehub.ListQuery{})
	if instancehub.ErrorCode(err) != instancehub.EFORBIDDEN || !strings.Contains(instancehub.ErrorMessage(err), "Ask an Owner") {
		t.Errorf("no role: %v", err)
	}
}

func TestCreateOnBehalf(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	op := p.EnsureUser(t, "op@example.com", "Oscar Operator", instancehub.RoleComputeOperator)
	ds := p.EnsureUser(t, "ds@example.com", "Dana Scientist", instancehub.RoleDataScientist)
	req := testportal.Request("for-dana")
	req.AssignTo = "DS@example.com"
	inst, err := p.Service.CreateInstance(p.As(op), req)
	if err != nil {
		t.Fatal(err)
	}
	if inst.OwnerID != ds.ID || inst.CreatedByID != op.ID {
		t.Errorf("owner %d, creator %d; want %d, %d", inst.OwnerID, inst.CreatedByID, ds.ID, op.ID)
	}
	p.WaitState(t, "for-dana", instancehub.StateRunning)
	mine, err := p.Service.ListInstances(p.As(ds), instancehub.ListQuery{OnlyMine: true})
	if err != nil || mine.Total != 1 || !mine.Instances[0].Access.OpenApps || !mine.Instances[0].Access.Manage {
		t.Fatalf("Dana's instances = %+v, %v", mine, err)
	}
	theirs, _ := p.Service.ListInstances(p.As(op), instancehub.ListQuery{})
	if a := theirs.Instances[0].Access; a.OpenApps || !a.Manage {
		t.Errorf("the operator's access = %+v, want manage without applications", a)
	}
	if _, _, err := p.Service.OpenApplication(p.As(op), "for-dana", "rstudio"); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Errorf("the creator opens the owner's application: %v", err)
	}
	// The creator's SSH key would let them past the owner-only rule.
	req = testportal.Request("for-dana-ssh")
	req.AssignTo, req.SSHEnabled, req.SSHPublicKey = ds.Email, true, testportal.SSHKey
	_, err = p.Service.CreateInstance(p.As(op), req)
	if msg := instancehub.ErrorFields(err)["ssh_public_key"]; !strings.Contains(msg, "Only the instance's owner may give it a key") {
		t.Errorf("SSH on for someone else with the creator's key: %v", err)
	}
	req = testportal.Request("for-nobody")
	req.AssignTo = "ghost@example.com"
	_, err = p.Service.CreateInstance(p.As(op), req)
	if msg := instancehub.ErrorFields(err)["assign_to"]; !strings.Contains(msg, "no user with the email ghost@example.com") {
		t.Errorf("unknown assignee: %v", err)
	}
}

func TestRoleManagement(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	bob := p.EnsureUser(t, "bob@example.com", "Bob")
	a, err := p.Service.AssignRole(p.Ctx, "BOB@example.com", instancehub.RoleDataScientist)
	if err != nil || a.UserID != bob.ID || a.AssignedByID != p.User.ID {
		t.Fatalf("assign = %+v, %v", a, err)
	}
	if _, err := p.Service.AssignRole(p.Ctx, "bob@example.com", instancehub.RoleDataScientist); !strings.Contains(instancehub.ErrorFields(err)["role"], "already has") {
		t.Errorf("assign twice: %v", err)
	}
	bob.Roles = []instancehub.Role{instancehub.RoleDataScientist}
	if _, err := p.Service.AssignRole(p.As(bob), "bob@example.com", instancehub.RoleOwner); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN ||
		!strings.Contains(instancehub.ErrorMessage(err), "roles/write") {
		t.Errorf("a Data Scientist makes himself Owner: %v", err)
	}
	// Bob signs in; losing his last role signs him out everywhere.
	if err := p.DB.CreateSession(p.Ctx, &instancehub.Session{TokenHash: "bob", UserID: bob.ID, ExpiresAt: p.User.CreatedAt.AddDate(1, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Service.RemoveRoleAssignment(p.Ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DB.FindSession(p.Ctx, "bob", p.User.CreatedAt); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Errorf("Bob's session after losing his last role: %v", err)
	}
	page, _ := p.Service.RoleAssignments(p.Ctx, instancehub.RoleOwner)
	if len(page.Assignments) != 1 {
		t.Fatalf("owners = %v", page.Assignments)
	}
	if _, err := p.Service.RemoveRoleAssignment(p.Ctx, page.Assignments[0].ID); instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		t.Errorf("removing the last Owner: %v", err)
	}
	// Everything above is in the audit log, refusals included.
	log, err := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{Action: "role."}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var results []string
	for _, e := range log.Events {
		results = append(results, e.Action+" "+e.Result)
	}
	want := "role.remove failed,role.remove succeeded,role.assign denied,role.assign failed,role.assign succeeded"
	if got := strings.Join(results, ","); got != want {
		t.Errorf("audit = %s\nwant    %s", got, want)
	}
	if _, err := p.Service.AuditEvents(p.As(bob), instancehub.AuditFilter{}, 1); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Errorf("Bob reads the audit log: %v", err)
	}
	auditor := p.EnsureUser(t, "it@example.com", "IT Reviewer", instancehub.RoleAuditReader)
	if _, err := p.Service.AuditEvents(p.As(auditor), instancehub.AuditFilter{}, 1); err != nil {
		t.Errorf("an Audit Reader reads the audit log: %v", err)
	}
}

// TestAssigningNoRoleAsksForOne: the form preselects no role, and sending
// none is refused next to the field, never taken as Owner.
func TestAssigningNoRoleAsksForOne(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	p.EnsureUser(t, "bob@example.com", "Bob")
	_, err := p.Service.AssignRole(p.Ctx, "bob@example.com", "")
	if instancehub.ErrorCode(err) != instancehub.EINVALID || instancehub.ErrorMessage(err) != "Choose a role." {
		t.Fatalf("no role: %v, want EINVALID asking for one", err)
	}
	bob, err := p.Service.Users.FindUserByEmail(p.Ctx, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if roles, _ := p.DB.UserRoles(p.Ctx, bob.ID); len(roles) != 0 {
		t.Fatalf("Bob has roles %v", roles)
	}
}

// TestInstancesAreMadeOnlyForThoseWhoCanUseThem: "Assign to another user"
// offers only people whose roles let them use an instance of their own, and
// a create for anyone else is refused next to the field.
func TestInstancesAreMadeOnlyForThoseWhoCanUseThem(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	dana := p.EnsureUser(t, "dana@example.com", "Dana", instancehub.RoleDataScientist)
	p.EnsureUser(t, "rita@example.com", "Rita", instancehub.RoleReader)
	p.EnsureUser(t, "audrey@example.com", "Audrey", instancehub.RoleAuditReader)
	p.EnsureUser(t, "nobody@example.com", "Nobody")
	opts, err := p.Service.CreateOptions(p.Ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var offered []string
	for _, u := range opts.Assignees {
		offered = append(offered, u.Email)
	}
	if strings.Join(offered, ",") != "ada@example.com,dana@example.com" && strings.Join(offered, ",") != "dana@example.com,ada@example.com" {
		t.Fatalf("offered %v, want Ada (Owner) and Dana (Data Scientist)", offered)
	}
	for _, email := range []string{"rita@example.com", "audrey@example.com", "nobody@example.com"} {
		req := testportal.Request("for-" + strings.Split(email, "@")[0])
		req.AssignTo = email
		_, err := p.Service.CreateInstance(p.Ctx, req)
		if !strings.Contains(instancehub.ErrorFields(err)["assign_to"], "no role that lets them use an instance") {
			t.Errorf("a create for %s: %v", email, err)
		}
	}
	req := testportal.Request("for-dana")
	req.AssignTo = dana.Email
	if _, err := p.Service.CreateInstance(p.Ctx, req); err != nil {
		t.Fatalf("a create for Dana: %v", err)
	}
}
