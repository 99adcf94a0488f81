package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

// trickyNames are instance names a search must find exactly as the LIKE
// of before found them: the metacharacters of LIKE and of FTS5's queries,
// cases, non-ASCII letters (which SQLite's LIKE compares as they are, and
// PostgreSQL's ILIKE case-insensitively), and names of one and two
// characters; letters whose lower case is an ASCII one (the Kelvin sign,
// the dotted capital I), which FTS5's own case folding would fold and LIKE
// does not. The store does not validate names (instancehub.ValidateName
// does, before): these go in as they are.
var trickyNames = []string{
	"Data-Lab", "data_lab", "data%lab", `back\slash`, `quote"name`, "star*name", "paren(x)",
	"ÉCOLE-été", "école", "straße", "STRASSE", "日本語テスト", "emoji-😀-x",
	"a", "ab", "abc", "mixedCase-GPU", "gpu-box", "two  spaces", "NEAR-and-OR",
	"\u212Aelvin-box", "\u0130stanbul", "kelvin-lab", "istanbul-lab",
}

// trickySearches are the searches tried on trickyNames, each with and
// without the index's help (under three characters it cannot).
var trickySearches = []string{
	"lab", "LAB", "a-l", "a_l", "_", "%", "a%l", "%lab", `\`, `k\s`, `\sl`, `"`, `e"n`, `"name`,
	"*", "r*n", "(x)", "école", "ÉCOLE", "été", "ÉTÉ", "cole", "COLE", "日本", "日本語", "本語テ",
	"straße", "STRASSE", "ss", "SS", "ß", "😀", "o-😀", "-😀-", "a", "b", "ab", "abc", "ABC",
	"zzz", "gpu", "GPU", "e-G", "  ", "o  s", "NEAR", "and", "OR", "-or", "AND-OR", "datalab",
	"kel", "KELVIN", "\u212Ael", "ist", "İST", "\u0130stan",
}

// TestSearchFindsWhatLikeFound compares every search of trickySearches with
// the LIKE (ILIKE on PostgreSQL) of before, run on the same rows, and pins
// a few by hand; a deleted instance is found by none.
func TestSearchFindsWhatLikeFound(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	owner := createUser(t, db, "ada@example.com", "Ada")
	for i, name := range trickyNames {
		if _, err := db.rawExec(ctx, `
			INSERT INTO instances (name, region, vm_size, family, vcpus, memory_gib, state, owner_id, created_by_id, created_at, updated_at)
			VALUES (?, 'westeurope', 'Standard_DS3_v2', 'standardDSv2Family', 4, 14, 'Running', ?, ?, ?, ?)`,
			name, owner.ID, owner.ID, millis(start)+int64(i), millis(start)+int64(i)); err != nil {
			t.Fatalf("insert %q: %v", name, err)
		}
	}
	gone := runningInstance(t, db, "lab-gone", owner)
	deleteInstance(t, db, gone, owner)

	for _, search := range trickySearches {
		var want []string
		rows, err := db.query(ctx, `SELECT name FROM instances i WHERE `+live+` AND i.name `+db.d.like+` ? ESCAPE '\' ORDER BY i.id`, contains(search))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			want = append(want, name)
		}
		rows.Close()
		if got, total := searchNames(t, db, search); !slices.Equal(got, want) || total != len(want) {
			t.Errorf("search %q: %q (total %d), the LIKE of before finds %q", search, got, total, want)
		}
	}

	for search, want := range map[string][]string{
		"a_l":  {"data_lab"},
		"a%l":  {"data%lab"},
		"LAB":  {"Data-Lab", "data_lab", "data%lab", "kelvin-lab", "istanbul-lab"},
		`k\s`:  {`back\slash`},
		`e"n`:  {`quote"name`},
		"r*n":  {"star*name"},
		"AND":  {"NEAR-and-OR"},
		"日本語":  {"日本語テスト"},
		"bc":   {"abc"},
		"zzz":  nil,
		"gone": nil,
	} {
		if got, _ := searchNames(t, db, search); !slices.Equal(got, want) {
			t.Errorf("search %q: %q, want %q", search, got, want)
		}
	}
}

// searchNames is the names a search finds, oldest first, and its total.
func searchNames(t *testing.T, db *DB, search string) ([]string, int) {
	t.Helper()
	found, total, err := db.FindInstances(context.Background(), instancehub.InstanceFilter{Search: search, Sort: instancehub.SortCreatedAsc, Limit: 100})
	if err != nil {
		t.Fatalf("search %q: %v", search, err)
	}
	var names []string
	for _, inst := range found {
		names = append(names, inst.Name)
	}
	return names, total
}

// TestSearchIndexFollowsTheInstances: a created instance is found at once,
// a deleted one no longer, and one whose name changes (nothing renames
// today; the trigger is there for the day something does) by its new name
// only.
func TestSearchIndexFollowsTheInstances(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	owner := createUser(t, db, "ada@example.com", "Ada")
	a := runningInstance(t, db, "alpha-lab", owner)
	b := runningInstance(t, db, "beta-lab", owner)
	if got, _ := searchNames(t, db, "-lab"); !slices.Equal(got, []string{"alpha-lab", "beta-lab"}) {
		t.Fatalf("after the creates: %q", got)
	}
	deleteInstance(t, db, a, owner)
	if got, _ := searchNames(t, db, "-lab"); !slices.Equal(got, []string{"beta-lab"}) {
		t.Errorf("after deleting alpha-lab: %q", got)
	}
	setState(t, db, b, instancehub.StateStopped)
	if got, _ := searchNames(t, db, "beta"); !slices.Equal(got, []string{"beta-lab"}) {
		t.Errorf("after stopping beta-lab: %q", got)
	}
	if _, err := db.rawExec(ctx, `UPDATE instances SET name = 'gamma-box' WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := searchNames(t, db, "beta"); got != nil {
		t.Errorf("the old name still finds %q", got)
	}
	if got, _ := searchNames(t, db, "MMA-B"); !slices.Equal(got, []string{"gamma-box"}) {
		t.Errorf("the new name finds %q", got)
	}
	// Created again under a deleted one's name: found once.
	runningInstance(t, db, "alpha-lab", owner)
	if got, total := searchNames(t, db, "alpha"); !slices.Equal(got, []string{"alpha-lab"}) || total != 1 {
		t.Errorf("alpha-lab made again: %q, total %d", got, total)
	}
}

// TestSearchReadsTheIndex: on SQLite a search of three characters or more
// reads the text index once, for the IDs of its matches, and its count and
// page read those instances by ID, not every live instance; a shorter one
// scans, as no trigram serves it. (PostgreSQL's planner chooses the trigram index by its
// statistics: at 100,000 instances, analysed, it does, which takes too long
// to seed here.)
func TestSearchReadsTheIndex(t *testing.T) {
	db := openSQLite(t)
	db.Now = (&testClock{now: start}).Now
	ctx := context.Background()
	seedInstances(t, db, 10_000)
	if _, err := db.rawExec(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	// plan is the query plan of the search's read of the index (matches),
	// or of its count or page, which select the instances the index read.
	plan := func(search string, what string) string {
		matched := ""
		if trigramSearch(search) {
			ids, err := db.searchMatches(ctx, search, maxIndexedMatches+1)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) == 0 || len(ids) > maxIndexedMatches {
				t.Fatalf("%q matches %d", search, len(ids))
			}
			matched = jsonIDs(ids)
		}
		where, args := db.instanceWhere(instancehub.InstanceFilter{Search: search}, matched)
		q := `SELECT count(*) FROM instances i WHERE ` + where
		switch what {
		case "page":
			q = instanceSelect + ` WHERE ` + where + ` ORDER BY ` + instanceOrders[instancehub.SortCreatedDesc] + ` LIMIT 50 OFFSET 0`
		case "matches":
			q, args = `SELECT rowid FROM instances_search WHERE instances_search MATCH ? LIMIT ?`, []any{ftsPhrase(search), maxIndexedMatches + 1}
		}
		rows, err := db.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
		}
		return strings.Join(lines, "\n")
	}
	index, byID, scan := "SCAN instances_search VIRTUAL TABLE", "USING INTEGER PRIMARY KEY", "SCAN i "
	if p := plan("nch0005", "matches"); !strings.Contains(p, index) {
		t.Errorf("a search does not read the index:\n%s", p)
	}
	for _, what := range []string{"count", "page"} {
		p := plan("nch0005", what)
		if !strings.Contains(p, byID) || strings.Contains(p, scan) {
			t.Errorf("a search's %s does not read the matches by ID:\n%s", what, p)
		}
	}
	if p := plan("05", "count"); strings.Contains(p, index) || strings.Contains(p, byID) {
		t.Errorf("a search of two characters reads the index:\n%s", p)
	}
}

// TestSearchPagesAsLikeDid walks searches of few matches (read from the
// text index and sorted) and of many (past maxIndexedMatches: the sort's
// index walked), with and without an owner, in two sorts, page by page
// where it matters, against the LIKE of before with the same order.
func TestSearchPagesAsLikeDid(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	seedInstances(t, db, 3000)
	var owner int64
	if err := db.rawQueryRow(ctx, `SELECT min(owner_id) FROM instances`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	for _, search := range []string{"bench", "NCH001", "h0029", "00", "zzz"} {
		for _, ownerID := range []int64{0, owner} {
			for _, sort := range []instancehub.InstanceSort{instancehub.SortCreatedDesc, instancehub.SortNameAsc} {
				conds, args := live+` AND i.name `+db.d.like+` ? ESCAPE '\'`, []any{contains(search)}
				if ownerID != 0 {
					conds, args = conds+` AND i.owner_id = ?`, append(args, ownerID)
				}
				var want int
				if err := db.rawQueryRow(ctx, `SELECT count(*) FROM instances i WHERE `+conds, args...).Scan(&want); err != nil {
					t.Fatal(err)
				}
				for _, offset := range []int{0, 50, 2950} {
					filter := instancehub.InstanceFilter{Search: search, OwnerID: ownerID, Sort: sort, Offset: offset, Limit: 50}
					page, total, err := db.findInstances(ctx, filter, -1)
					if err != nil {
						t.Fatal(err)
					}
					rows, err := db.db.QueryContext(ctx, db.d.rebind(`SELECT i.name FROM instances i WHERE `+conds+
						` ORDER BY `+instanceOrders[sort]+` LIMIT 50 OFFSET ?`), append(args, offset)...)
					if err != nil {
						t.Fatal(err)
					}
					var wantNames, got []string
					for rows.Next() {
						var name string
						if err := rows.Scan(&name); err != nil {
							t.Fatal(err)
						}
						wantNames = append(wantNames, name)
					}
					rows.Close()
					for _, inst := range page {
						got = append(got, inst.Name)
					}
					if total != want || !slices.Equal(got, wantNames) {
						t.Errorf("%+v: total %d, %d names from %q; LIKE finds %d, %d names from %q",
							filter, total, len(got), first(got), want, len(wantNames), first(wantNames))
					}
				}
			}
		}
	}
}

func first(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}
