package azure_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// pagedGroup is a resource group whose list of VMs comes in pages of
// perPage, each page made by write from its VMs' names and its nextLink
// ("" on the last page); asked counts the requests of each page.
type pagedGroup struct {
	pages, perPage int
	write          func(names []string, next string) string
	mu             sync.Mutex
	asked          map[int]int
	// onAsk, when set, is called with each page asked for.
	onAsk func(page int)
}

func (g *pagedGroup) serve(t *testing.T) *armServer {
	t.Helper()
	a := &armServer{}
	a.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines") {
			http.NotFound(w, r)
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("$skiptoken"))
		g.mu.Lock()
		g.asked[page]++
		onAsk := g.onAsk
		g.mu.Unlock()
		if onAsk != nil {
			onAsk(page)
		}
		var names []string
		for i := range g.perPage {
			names = append(names, fmt.Sprintf("vm-%03d-%02d", page, i))
		}
		next := ""
		if page+1 < g.pages {
			u := *r.URL
			q := u.Query()
			q.Set("$skiptoken", strconv.Itoa(page+1))
			u.RawQuery = q.Encode()
			next = "https://" + r.Host + u.String()
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, g.write(names, next))
	}))
	a.StartTLS()
	t.Cleanup(a.Close)
	return a
}

// vmsJSON is a JSON array of running VMs so named.
func vmsJSON(names []string) string {
	var vms []string
	for _, n := range names {
		vms = append(vms, `{"name":"`+n+`","tags":{"nextLink":"not this one"},"properties":{"instanceView":{"statuses":[{"code":"ProvisioningState/succeeded"},{"code":"PowerState/running"}]}}}`)
	}
	return "[" + strings.Join(vms, ",") + "]"
}

// armLayout writes a page as ARM does: the VMs, then the nextLink.
func armLayout(names []string, next string) string {
	if next == "" {
		return `{"value":` + vmsJSON(names) + `}`
	}
	return `{"value":` + vmsJSON(names) + `,"nextLink":"` + strings.ReplaceAll(next, "&", `\u0026`) + `"}` + "\n"
}

func listAll(t *testing.T, a *armServer, each func(instancehub.VM)) []string {
	t.Helper()
	var got []string
	err := loopbackCloud(t, a).VMs(context.Background(), func(vm instancehub.VM) {
		got = append(got, vm.Name)
		if each != nil {
			each(vm)
		}
	})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	return got
}

func wantAll(t *testing.T, g *pagedGroup, got []string) {
	t.Helper()
	var want []string
	for p := range g.pages {
		for i := range g.perPage {
			want = append(want, fmt.Sprintf("vm-%03d-%02d", p, i))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %d VMs %q…, want %d in order", len(got), got[:min(3, len(got))], len(want))
	}
	for p := range g.pages {
		if g.asked[p] != 1 {
			t.Errorf("page %d asked for %d times, want once", p, g.asked[p])
		}
	}
}

// TestTheNextPageIsAskedForWhileAPageIsRead: a page ARM ends with its
// nextLink has the next page asked for before its own VMs are read (at
// 100,000 VMs the emulator's time for a page and the portal's were spent
// one after the other); every VM is still read once, in order.
func TestTheNextPageIsAskedForWhileAPageIsRead(t *testing.T) {
	g := &pagedGroup{pages: 5, perPage: 30, write: armLayout, asked: map[int]int{}}
	asked := make(chan int, g.pages)
	g.onAsk = func(page int) { asked <- page }
	a := g.serve(t)
	got := listAll(t, a, func(vm instancehub.VM) {
		if !strings.HasSuffix(vm.Name, "-00") {
			return
		}
		page, _ := strconv.Atoi(vm.Name[3:6])
		if page+1 == g.pages {
			return
		}
		for {
			select {
			case p := <-asked:
				if p == page+1 {
					return
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("page %d read without page %d asked for", page, page+1)
			}
		}
	})
	wantAll(t, g, got)
}

// TestAPageWhoseLinkIsNotLastIsReadInTurn: a page with its nextLink first,
// or with spaces about its members, is read whole before its next is asked
// for, and every VM once, in order; so is a page whose last member is not
// the link.
func TestAPageWhoseLinkIsNotLastIsReadInTurn(t *testing.T) {
	layouts := map[string]func([]string, string) string{
		"link first": func(names []string, next string) string {
			if next == "" {
				return `{"value":` + vmsJSON(names) + `}`
			}
			return `{"nextLink":"` + next + `","value":` + vmsJSON(names) + `}`
		},
		"spaced": func(names []string, next string) string {
			if next == "" {
				return "{ \"value\" : " + vmsJSON(names) + " , \"nextLink\" : null }\r\n"
			}
			return "{ \"value\" : " + vmsJSON(names) + " ,\n\t\"nextLink\" :\t\"" + next + "\" \n}\n"
		},
		"link then more": func(names []string, next string) string {
			return `{"value":` + vmsJSON(names) + `,"nextLink":"` + next + `","extra":"x\"y"}`
		},
	}
	for name, layout := range layouts {
		t.Run(name, func(t *testing.T) {
			g := &pagedGroup{pages: 4, perPage: 20, write: layout, asked: map[int]int{}}
			wantAll(t, g, listAll(t, g.serve(t), nil))
		})
	}
}

// TestAFailedPageFailsTheList: a page refused, whether asked for ahead or
// in turn, fails the list with ARM's reason, and a page that is no list
// fails it too, whatever was asked for ahead of it.
func TestAFailedPageFailsTheList(t *testing.T) {
	for _, bad := range []int{0, 1, 3} {
		t.Run(fmt.Sprint("page ", bad), func(t *testing.T) {
			g := &pagedGroup{pages: 4, perPage: 5, asked: map[int]int{}}
			a := g.serve(t)
			inner := a.Config.Handler
			a.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("$skiptoken") == fmt.Sprint(bad) && bad != 0 || bad == 0 && r.URL.Query().Get("$skiptoken") == "" {
					w.WriteHeader(http.StatusForbidden)
					fmt.Fprint(w, `{"error":{"code":"AuthorizationFailed","message":"no list for you"}}`)
					return
				}
				inner.ServeHTTP(w, r)
			})
			g.write = armLayout
			var read int
			err := loopbackCloud(t, a).VMs(context.Background(), func(instancehub.VM) { read++ })
			if err == nil || !strings.Contains(err.Error(), "no list for you") {
				t.Fatalf("list: %v, want ARM's reason", err)
			}
			if read != bad*g.perPage {
				t.Errorf("read %d VMs before the failed page, want %d", read, bad*g.perPage)
			}
		})
	}
	t.Run("not a list", func(t *testing.T) {
		g := &pagedGroup{pages: 3, perPage: 5, asked: map[int]int{}}
		g.write = func(names []string, next string) string {
			if strings.HasSuffix(names[0], "001-00") {
				return `{"value":{"name":"x"},"nextLink":"` + next + `"}`
			}
			return armLayout(names, next)
		}
		err := loopbackCloud(t, g.serve(t)).VMs(context.Background(), func(instancehub.VM) {})
		if err == nil || !strings.Contains(err.Error(), "list virtual machines") {
			t.Fatalf("list: %v, want the page refused", err)
		}
	})
}
