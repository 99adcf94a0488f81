// Package testportal wires the portal for tests and benchmarks as the real
// program does: the service and engine over a SQLite file and the offline
// emulator behind the real Azure clients.
package testportal

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/engine"
	"github.com/instancehub/instancehub/events"
	"github.com/instancehub/instancehub/service"
	"github.com/instancehub/instancehub/store"
)

// Portal is a running portal without its web server.
type Portal struct {
	Dir     string
	DB      *store.DB
	Emu     *emulator.Emulator
	Cloud   *azure.Cloud
	Engine  *engine.Engine
	Service *service.Service
	// Hub tells open pages of the instances' changes.
	Hub *events.Hub
	// User is an account made on first open; Ctx carries it.
	User *instancehub.User
	Ctx  context.Context

	url string // PostgreSQL's, for Replica
}

// Password is the password of every account made here.
const Password = "correct horse battery"

// Open opens, or reopens, a portal over the files in dir. latency scales
// the emulator's operation times. The portal closes when the test ends.
func Open(t testing.TB, dir string, latency float64) *Portal {
	t.Helper()
	return OpenWith(t, dir, emulator.Options{Path: filepath.Join(dir, "emulator.db"), Latency: latency})
}

// OpenWith opens a portal over the database in dir and an emulator opened
// with opts.
func OpenWith(t testing.TB, dir string, opts emulator.Options) *Portal {
	t.Helper()
	return OpenWired(t, dir, opts, Wiring{})
}

// Wiring changes how a portal is put together, for tests that watch a part
// or break one at a chosen moment.
type Wiring struct {
	// Cloud, when set, wraps the cloud the engine drives operations with
	// (the service and Portal.Cloud keep the real one).
	Cloud func(*azure.Cloud) instancehub.Cloud
	// Logger, when set, receives the engine's and the service's log.
	Logger *slog.Logger
	// MaxDatabaseSize, when set, keeps the SQLite database under this
	// many bytes, past which writes find no room, as on a full disk.
	MaxDatabaseSize int64
	// CacheTTL, when set, is how long the cloud keeps its catalog (sizes,
	// image versions): a nanosecond asks Azure every time.
	CacheTTL time.Duration
}

// OpenWired is OpenWith, wired as w says.
func OpenWired(t testing.TB, dir string, opts emulator.Options, w Wiring) *Portal {
	t.Helper()
	db, err := store.OpenWith(context.Background(), filepath.Join(dir, "instancehub.db"), store.Options{MaxSize: w.MaxDatabaseSize})
	if err != nil {
		t.Fatal(err)
	}
	emu, cloud := openCloud(t, opts, w.CacheTTL)
	p := newPortal(t, dir, db, emu, cloud, &engine.Engine{Exclusive: true}, w)
	t.Cleanup(p.Close)
	return p
}

// OpenPostgres opens a portal, the first of several replicas (Replica),
// over the PostgreSQL database at url and an emulator opened with opts.
func OpenPostgres(t testing.TB, url, replica string, lease time.Duration, opts emulator.Options) *Portal {
	t.Helper()
	return OpenPostgresWired(t, url, replica, lease, opts, Wiring{})
}

// OpenPostgresWired is OpenPostgres, wired as w says.
func OpenPostgresWired(t testing.TB, url, replica string, lease time.Duration, opts emulator.Options, w Wiring) *Portal {
	t.Helper()
	db, err := store.OpenPostgres(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	emu, cloud := openCloud(t, opts, 0)
	p := newPortal(t, t.TempDir(), db, emu, cloud, &engine.Engine{Replica: replica, LeaseFor: lease}, w)
	p.url = url
	t.Cleanup(p.Close)
	return p
}

// Replica opens another portal on p's PostgreSQL database with its own
// connections and engine, sharing p's emulator as replicas share the
// emulator's process.
func (p *Portal) Replica(t testing.TB, name string, lease time.Duration) *Portal {
	t.Helper()
	db, err := store.OpenPostgres(context.Background(), p.url)
	if err != nil {
		t.Fatal(err)
	}
	r := newPortal(t, t.TempDir(), db, p.Emu, p.Cloud, &engine.Engine{Replica: name, LeaseFor: lease}, Wiring{})
	t.Cleanup(func() { r.Engine.Stop(); r.DB.Close() })
	return r
}

// OpenServed opens a portal over the database in dir whose cloud is the
// emulator emu served in a process of its own (served by the test: its
// Handler behind an HTTPS server), reached at remote as `serve
// --emulator-url` reaches one. p.Emu is emu.
func OpenServed(t testing.TB, dir string, emu *emulator.Emulator, remote *emulator.Remote) *Portal {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(dir, "instancehub.db"))
	if err != nil {
		t.Fatal(err)
	}
	cloud, err := azure.New(azure.Config{
		SubscriptionID: remote.SubscriptionID, ResourceGroup: remote.ResourceGroup,
		Regions: remote.Regions, PublicIP: true, SSHSourceRange: "Internet", AppSourceRange: "10.0.0.0/8",
	}, remote.Credential(), remote.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	p := newPortal(t, dir, db, emu, cloud, &engine.Engine{Exclusive: true}, Wiring{})
	t.Cleanup(p.Close)
	return p
}

func openCloud(t testing.TB, opts emulator.Options, cacheTTL time.Duration) (*emulator.Emulator, *azure.Cloud) {
	t.Helper()
	emu, err := emulator.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	cloud, err := azure.New(azure.Config{
		SubscriptionID: emu.SubscriptionID(), ResourceGroup: emu.ResourceGroup(),
		Regions: emu.Regions(), PublicIP: true, SSHSourceRange: "Internet", AppSourceRange: "10.0.0.0/8", CacheTTL: cacheTTL,
	}, emu.Credential(), emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	return emu, cloud
}

// newPortal wires the service and engine over db and cloud, as w says, and
// starts the engine, which has its replica settings set.
func newPortal(t testing.TB, dir string, db *store.DB, emu *emulator.Emulator, cloud *azure.Cloud, e *engine.Engine, w Wiring) *Portal {
	t.Helper()
	ctx := context.Background()
	log := w.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	hub := &events.Hub{}
	var instances instancehub.InstanceStore = events.Store{InstanceStore: db, Hub: hub}
	if db.Shared() {
		// As cmd wires it: every replica's changes, as PostgreSQL notifies.
		instances = db
		listening, stop := context.WithCancel(context.Background())
		done, heard := make(chan struct{}), make(chan struct{})
		var once sync.Once
		go func() {
			defer close(done)
			_ = events.Follow(listening, hub, db, func(error) { once.Do(func() { close(heard) }) })
		}()
		t.Cleanup(func() { stop(); <-done })
		select { // the portal hears from its first change on
		case <-heard:
		case <-done:
			t.Fatal("the portal could not listen for the instances' changes")
		}
	}
	e.Instances, e.Cloud, e.Logger, e.PollInterval = instances, cloud, log, 5*time.Millisecond
	if w.Cloud != nil {
		e.Cloud = w.Cloud(cloud)
	}
	p := &Portal{
		Dir: dir, DB: db, Emu: emu, Cloud: cloud, Engine: e, Hub: hub,
		Service: service.New(service.Config{
			Store: db, Cloud: cloud, Operations: e, Changes: hub, Logger: log, ArchiveDir: filepath.Join(dir, "audit-archives"),
			Prices: azure.NewRetailPrices(azure.PricesConfig{
				Client: &http.Client{Transport: emu.PricesTransport()}, Source: instancehub.SourceEmulator, Logger: log,
			}),
		}),
	}
	e.Adopter = p.Service
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	p.User = p.EnsureUser(t, "ada@example.com", "Ada Lovelace", instancehub.RoleOwner)
	p.Ctx = instancehub.NewContextWithUser(ctx, p.User)
	return p
}

// Close stops the engine and closes the emulator and the database, as a
// process that ends would.
func (p *Portal) Close() {
	p.Hub.Close()
	p.Engine.Stop()
	p.Emu.Close()
	p.DB.Close()
}

// EnsureUser returns the account with that email, making it if needed,
// holding at least the given roles (loaded into User.Roles).
func (p *Portal) EnsureUser(t testing.TB, email, name string, roles ...instancehub.Role) *instancehub.User {
	t.Helper()
	ctx := context.Background()
	user, err := p.DB.FindUserByEmail(ctx, email)
	if instancehub.ErrorCode(err) == instancehub.ENOTFOUND {
		user, err = p.Service.CreateUser(ctx, email, name, Password)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		err := p.DB.AssignRole(ctx, &instancehub.RoleAssignment{UserID: user.ID, Role: r, Source: instancehub.SourceCLI})
		if err != nil && instancehub.ErrorCode(err) != instancehub.ECONFLICT {
			t.Fatal(err)
		}
	}
	if user.Roles, err = p.DB.UserRoles(ctx, user.ID); err != nil {
		t.Fatal(err)
	}
	return user
}

// As returns a context signed in as user.
func (p *Portal) As(user *instancehub.User) context.Context {
	return instancehub.NewContextWithUser(context.Background(), user)
}

// MakeVMs creates in the emulator, through the portal's own Azure steps,
// the VMs of every live instance that has none: seeded instances then exist
// in Azure too.
func (p *Portal) MakeVMs(t testing.TB) {
	t.Helper()
	instances, _, err := p.DB.FindInstances(p.Ctx, instancehub.InstanceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, inst := range instances {
		if _, err := p.Cloud.VM(p.Ctx, inst); err == nil {
			continue // made before, and maybe stopped since
		}
		for _, step := range p.Cloud.Steps(instancehub.OpCreate, inst) {
			token, err := p.Cloud.BeginStep(p.Ctx, instancehub.OpCreate, step, inst)
			for err == nil && token != "" {
				var done bool
				if done, err = p.Cloud.PollStep(p.Ctx, instancehub.OpCreate, step, inst, token); done {
					break
				}
			}
			if err != nil {
				t.Fatalf("make VM %s: %v", inst.Name, err)
			}
		}
	}
}

// WaitState waits until the named instance is in state want.
func (p *Portal) WaitState(t testing.TB, name string, want instancehub.State) *instancehub.Instance {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		inst, err := p.DB.FindInstanceByName(p.Ctx, name)
		if err == nil && inst.State == want {
			return inst
		}
		if time.Now().After(deadline) {
			got := instancehub.State("")
			if inst != nil {
				got = inst.State
			}
			t.Fatalf("instance %s: state %q (err %v), want %s", name, got, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// RunningInstances creates an instance of each name and waits until all run.
func (p *Portal) RunningInstances(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := p.Service.CreateInstance(p.Ctx, Request(name)); err != nil {
			t.Fatal(err)
		}
		p.WaitState(t, name, instancehub.StateRunning)
	}
}

// WaitStep waits until the last operation of the instance name is at step
// with its resume token stored: under way in Azure, as a crash would find it.
func (p *Portal) WaitStep(t testing.TB, name, step string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		inst, err := p.DB.FindInstanceByName(p.Ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if op := inst.LastOperation; op.Step == step && op.ResumeToken != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached the step %s: %+v", name, step, inst.LastOperation)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitGone waits until the named instance has left the list.
func (p *Portal) WaitGone(t testing.TB, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := p.DB.FindInstanceByName(p.Ctx, name)
		if instancehub.ErrorCode(err) == instancehub.ENOTFOUND {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s is still listed (err %v)", name, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Request is a create form for a small CPU instance in the default region.
func Request(name string) instancehub.CreateRequest {
	return instancehub.CreateRequest{Name: name, Region: "eastus", VMSize: "Standard_DS3_v2"}
}

// SSHKey is a valid ed25519 public key.
const SSHKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb8mN5o0H9GmWQ0jDmK5aS5cOl0pM3r3JQUgD0c0iYv ada@laptop"

// SeedNamed records one running instance named name, owned by owner.
func (p *Portal) SeedNamed(t testing.TB, name string, owner *instancehub.User) {
	t.Helper()
	p.seed(t, name, "eastus", "default", time.Now().UTC(), owner)
}

// Seed records n instances named prefix0001… directly in the store, already
// running, owned by owner: for pages and benchmarks that need many rows
// without creating their VMs. Past 250 they spread over the regions and
// subnets, as a /24 subnet holds no more.
func (p *Portal) Seed(t testing.TB, prefix string, n int, owner *instancehub.User) {
	t.Helper()
	regions := p.Emu.Regions()
	for i := 1; i <= n; i++ {
		region, subnet := "eastus", "default"
		if n > 250 {
			region, subnet = regions[i%len(regions)], []string{"default", "workstations"}[(i/len(regions))%2]
		}
		p.seed(t, fmt.Sprintf("%s%04d", prefix, i), region, subnet,
			time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Minute), owner)
	}
}

func (p *Portal) seed(t testing.TB, name, region, subnet string, created time.Time, owner *instancehub.User) {
	t.Helper()
	ctx := context.Background()
	inst := &instancehub.Instance{
		Name: name, Region: region, VMSize: "Standard_DS3_v2",
		Family: "standardDSv2Family", VCPUs: 4, MemoryGiB: 14, SSHPort: 22,
		VirtualNetwork: "vnet-" + region, Subnet: subnet,
		OwnerID: owner.ID, CreatedByID: owner.ID, CreatedAt: created,
		// As the service makes one at create (256 bits, base64url): the
		// Azure steps deliver it to the VM.
		AppSecret: "seeded-secret-of-" + name + "_0123456789abcdefghij",
	}
	op := &instancehub.Operation{Kind: instancehub.OpCreate, Trigger: instancehub.TriggerUser, UserID: owner.ID, StartedAt: created}
	if err := p.DB.CreateInstance(ctx, inst, op); err != nil {
		t.Fatal(err)
	}
	op.Status, op.FinishedAt = instancehub.StatusSucceeded, created.Add(5*time.Minute)
	update := instancehub.InstanceUpdate{State: instancehub.StateRunning, PrivateIP: "10.1.0.4"}
	if err := p.DB.FinishOperation(ctx, op, update); err != nil {
		t.Fatal(err)
	}
}
