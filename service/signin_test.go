package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// waits records the pauses of sign-ins instead of taking them.
type waits struct {
	mu    sync.Mutex
	taken []time.Duration
}

func (w *waits) wait(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.taken = append(w.taken, d)
	return nil
}

// last returns the last pause and forgets them all.
func (w *waits) last() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var d time.Duration
	if len(w.taken) > 0 {
		d = w.taken[len(w.taken)-1]
	}
	w.taken = nil
	return d
}

func openSignIn(t *testing.T) (*testportal.Portal, *waits) {
	p := testportal.Open(t, t.TempDir(), 0)
	w := &waits{}
	p.Service.Wait = w.wait
	return p, w
}

// from is a visitor's request from addr, not signed in.
func from(addr string) context.Context {
	return instancehub.NewContextWithSource(context.Background(), addr)
}

func TestSignInDelay(t *testing.T) {
	for failures, want := range []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 30 * time.Second, 30 * time.Second} {
		if got := instancehub.SignInDelay(failures); got != want {
			t.Errorf("SignInDelay(%d) = %v, want %v", failures, got, want)
		}
	}
	if got := instancehub.SignInDelay(1 << 20); got != instancehub.MaxSignInDelay {
		t.Errorf("SignInDelay(a million) = %v", got)
	}
	// Counting stops where every limit has reached its end.
	if instancehub.SignInDelay(instancehub.MaxLoginCount) != instancehub.MaxSignInDelay ||
		instancehub.SignInDelay(instancehub.MaxLoginCount-instancehub.AddressFreeFailures+instancehub.FreeFailures) != instancehub.MaxSignInDelay ||
		instancehub.MaxFailuresPerAccount > instancehub.MaxLoginCount {
		t.Errorf("MaxLoginCount (%d) stops counting before a limit has reached its end", instancehub.MaxLoginCount)
	}
}

// TestWrongPasswordsElsewhereNeverLockTheOwnerOut has a stranger guess the
// Owner's password: the stranger's guesses slow down, the Owner's sign-in
// from another address does not, and nothing is refused.
func TestWrongPasswordsElsewhereNeverLockTheOwnerOut(t *testing.T) {
	p, w := openSignIn(t)
	stranger, owner := from("198.51.100.66"), from("192.0.2.10")
	for i := range 8 {
		if _, err := p.Service.Authenticate(stranger, "ada@example.com", "guess "+fmt.Sprint(i)); instancehub.ErrorCode(err) != instancehub.EUNAUTHORIZED {
			t.Fatalf("guess %d: %v, want the wrong-password error", i, err)
		}
		if got, want := w.last(), instancehub.SignInDelay(i); got != want {
			t.Errorf("guess %d waited %v, want %v", i, got, want)
		}
	}
	if _, err := p.Service.Authenticate(owner, "ADA@example.com", testportal.Password); err != nil {
		t.Fatalf("the Owner from their own address: %v", err)
	}
	if got := w.last(); got != 0 {
		t.Errorf("the Owner waited %v", got)
	}
	// The stranger is slowed, not refused, and a right password there
	// clears that address's failures.
	if _, err := p.Service.Authenticate(stranger, "ada@example.com", testportal.Password); err != nil {
		t.Fatalf("the right password after 8 failures: %v", err)
	}
	if got := w.last(); got != instancehub.SignInDelay(8) {
		t.Errorf("after 8 failures waited %v, want %v", got, instancehub.SignInDelay(8))
	}
	if _, err := p.Service.Authenticate(stranger, "ada@example.com", "guess again"); instancehub.ErrorCode(err) != instancehub.EUNAUTHORIZED {
		t.Fatal(err)
	}
	if got := w.last(); got != 0 {
		t.Errorf("after a right password the next attempt waited %v", got)
	}
	// The guesses are tallied in the log, not kept one by one.
	log, _ := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{Action: "session.signIn", Result: instancehub.AuditDenied}, 1)
	counted := 0
	for _, e := range log.Events {
		counted += e.Count
	}
	if counted != 9 || log.Total > 2 {
		t.Errorf("wrong passwords: %d events counting %d, want 9 counted in one or two (a minute may turn)", log.Total, counted)
	}
}

// TestCorrectSignInsAtOnce signs in eight times at the same moment with the
// right password: none is refused.
func TestCorrectSignInsAtOnce(t *testing.T) {
	p, _ := openSignIn(t)
	ctx := from("192.0.2.20")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = p.Service.Authenticate(ctx, "ada@example.com", testportal.Password) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("sign-in %d: %v", i, err)
		}
	}
	n, err := p.Service.UnlockAccount(p.Ctx, "ada@example.com")
	if err != nil || n != 0 {
		t.Errorf("%d failures recorded for right passwords (%v), want none", n, err)
	}
}

// TestSignInAccountCap sends forty wrong passwords at once from one
// address to one account: only as many reach the password check as the
// account's cap allows, the attempts under way counted one by one. A
// colleague behind the same address, and the account's owner from
// elsewhere, still sign in.
func TestSignInAccountCap(t *testing.T) {
	p, _ := openSignIn(t)
	p.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleReader)
	ctx := from("192.0.2.9")
	var wg sync.WaitGroup
	codes := make([]string, 40)
	for i := range codes {
		wg.Go(func() {
			_, err := p.Service.Authenticate(ctx, "bob@example.com", "guess number "+fmt.Sprint(i))
			codes[i] = instancehub.ErrorCode(err)
		})
	}
	wg.Wait()
	checked := 0
	for _, c := range codes {
		switch c {
		case instancehub.EUNAUTHORIZED:
			checked++
		case instancehub.ETHROTTLED:
		default:
			t.Errorf("code %q", c)
		}
	}
	if checked != instancehub.MaxFailuresPerAccount {
		t.Errorf("%d guesses checked, want %d", checked, instancehub.MaxFailuresPerAccount)
	}
	if _, err := p.Service.Authenticate(ctx, "ada@example.com", testportal.Password); err != nil {
		t.Errorf("a colleague behind the same address: %v", err)
	}
	if _, err := p.Service.Authenticate(from("192.0.2.10"), "bob@example.com", testportal.Password); err != nil {
		t.Errorf("the account's owner from another address: %v", err)
	}
	log, _ := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{Action: "session.signIn", Result: instancehub.AuditFailed}, 1)
	if log.Total > 2 {
		t.Errorf("%d events for the throttled attempts, want them counted in one (or two, when a minute turns)", log.Total)
	}
}

// TestAColleagueIsNeverLockedOut has someone behind an office's address
// try 25 wrong passwords at random emails: a colleague behind the same
// address then signs in with theirs, slowed at most. The guesser stays
// bounded: at one account, from that address, it gets MaxFailuresPerAccount
// guesses and no more, right password included; other addresses get
// FreeFailures more each at the account; the account's owner signs in
// from their own address without waiting.
func TestAColleagueIsNeverLockedOut(t *testing.T) {
	p, w := openSignIn(t)
	office := from("203.0.113.50")
	for i := range 25 {
		if _, err := p.Service.Authenticate(office, fmt.Sprintf("someone%d@example.com", i), "wrong password"); instancehub.ErrorCode(err) != instancehub.EUNAUTHORIZED {
			t.Fatalf("guess %d: %v, want the wrong-password error", i, err)
		}
	}
	w.last()
	if _, err := p.Service.Authenticate(office, "ada@example.com", testportal.Password); err != nil {
		t.Fatalf("the colleague's right password from the office: %v", err)
	}
	if got := w.last(); got <= 0 || got > instancehub.MaxSignInDelay {
		t.Errorf("the colleague waited %v: the office's failures slow it, at most by %v", got, instancehub.MaxSignInDelay)
	}

	p.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleReader)
	guesses := 0
	for i := range 3 * instancehub.MaxFailuresPerAccount {
		_, err := p.Service.Authenticate(office, "bob@example.com", fmt.Sprintf("guess %d", i))
		if instancehub.ErrorCode(err) == instancehub.ETHROTTLED {
			break
		} else if instancehub.ErrorCode(err) != instancehub.EUNAUTHORIZED {
			t.Fatalf("guess %d: %v", i, err)
		}
		guesses++
	}
	if guesses != instancehub.MaxFailuresPerAccount {
		t.Errorf("the guesser got %d guesses at Bob, want %d", guesses, instancehub.MaxFailuresPerAccount)
	}
	if _, err := p.Service.Authenticate(office, "bob@example.com", testportal.Password); instancehub.ErrorCode(err) != instancehub.ETHROTTLED {
		t.Errorf("Bob's right password from the guesser's address: %v, want it refused unchecked", err)
	}
	for _, addr := range []string{"198.51.100.1", "198.51.100.2"} {
		for i := range instancehub.FreeFailures + 1 {
			_, err := p.Service.Authenticate(from(addr), "bob@example.com", "another guess")
			want := instancehub.EUNAUTHORIZED
			if i == instancehub.FreeFailures {
				want = instancehub.ETHROTTLED
			}
			if instancehub.ErrorCode(err) != want {
				t.Errorf("guess %d at Bob from %s: %v, want %s", i, addr, err, want)
			}
		}
	}
	w.last()
	if _, err := p.Service.Authenticate(from("192.0.2.77"), "bob@example.com", testportal.Password); err != nil {
		t.Errorf("Bob from his own address: %v", err)
	}
	if got := w.last(); got != 0 {
		t.Errorf("Bob from his own address waited %v", got)
	}
}

// TestUnlockAccount has an Owner forget an account's failures: its next
// sign-in waits no more. Only an Owner may, and it is audited.
func TestUnlockAccount(t *testing.T) {
	p, w := openSignIn(t)
	bob := p.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleContributor)
	stranger := from("198.51.100.7")
	for range 5 {
		_, _ = p.Service.Authenticate(stranger, "bob@example.com", "wrong password")
	}
	if _, err := p.Service.UnlockAccount(p.As(bob), "bob@example.com"); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Errorf("a Contributor unlocks: %v, want forbidden", err)
	}
	if _, err := p.Service.UnlockAccount(p.Ctx, "nobody@example.com"); instancehub.ErrorFields(err)["email"] == "" {
		t.Errorf("unlocking an unknown account: %v, want a field error", err)
	}
	n, err := p.Service.UnlockAccount(p.Ctx, "BOB@example.com")
	if err != nil || n != 5 {
		t.Fatalf("unlock = %d, %v; want 5 failures forgotten", n, err)
	}
	w.last()
	_, _ = p.Service.Authenticate(stranger, "bob@example.com", "wrong password")
	if got := w.last(); got != 0 {
		t.Errorf("after unlocking, a sign-in waited %v", got)
	}
	log, _ := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{Action: "user.unlock", Result: instancehub.AuditSucceeded}, 1)
	if log.Total != 1 || log.Events[0].Target != "BOB@example.com" || log.Events[0].UserEmail != "ada@example.com" {
		t.Errorf("audit of the unlock: %+v", log.Events)
	}
}

// TestDisabledAccountAnswersAlikeWhateverThePassword: signing in to a
// disabled account gets the answer an unknown email gets, with the right
// password as with a wrong one, and every attempt counts as a failure, so
// neither the words nor the waits tell whether a password was right.
func TestDisabledAccountAnswersAlikeWhateverThePassword(t *testing.T) {
	p, w := openSignIn(t)
	bob := p.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleReader)
	if _, err := p.Service.SetUserDisabled(p.Ctx, bob.ID, true); err != nil {
		t.Fatal(err)
	}
	answer := func(err error) string { return instancehub.ErrorCode(err) + ": " + instancehub.ErrorMessage(err) }
	_, err := p.Service.SignIn(from("192.0.2.31"), "nobody@example.com", "any password", "")
	unknown := answer(err)
	w.last()
	ctx := from("192.0.2.30")
	for i, password := range []string{testportal.Password, "wrong password", testportal.Password, "wrong again", testportal.Password, testportal.Password} {
		in, err := p.Service.SignIn(ctx, "bob@example.com", password, "")
		if in != nil || answer(err) != unknown {
			t.Errorf("attempt %d (right password: %v): %q, want %q as for an unknown email", i, password == testportal.Password, answer(err), unknown)
		}
		if got, want := w.last(), instancehub.SignInDelay(i); got != want {
			t.Errorf("attempt %d (right password: %v) waited %v, want %v", i, password == testportal.Password, got, want)
		}
	}
}
