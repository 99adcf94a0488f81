package web

import "sync"

// The paged list of computes is asked for at many addresses (pages, sorts,
// searches, owners, a poller's cache-busting parameter) that show the same
// computes. Each compute's JSON is kept as the list wrote it, by the data
// version the list was read at (the page cache's: any commit of what an
// answer shows, or a newer image seen, makes a new one, and forgets them
// all) and the portal's address as the client reached it (the answer's
// application addresses name it). Nothing else of the request shows: a
// compute's JSON is the same for every viewer who may see it, and which
// computes a viewer sees is the service's answer, read anew each request.

// maxFragmentBytes bounds the memory of kept computes (about 1.3 KB each),
// their keys included.
const maxFragmentBytes = 4 << 20

type fragmentKey struct {
	origin string
	name   string
}

type computeFragments struct {
	mu      sync.Mutex
	version int64
	bytes   int
	json    map[fragmentKey][]byte
}

// appendCompute appends the JSON kept of the compute k names at version,
// or, when none is kept, what encode appends, and keeps that.
func (f *computeFragments) appendCompute(b []byte, version int64, k fragmentKey, encode func([]byte) []byte) []byte {
	f.mu.Lock()
	kept, ok := f.json[k]
	ok = ok && f.version == version
	f.mu.Unlock()
	if ok {
		return append(b, kept...)
	}
	start := len(b)
	b = encode(b)
	f.put(version, k, append([]byte(nil), b[start:]...))
	return b
}

func (f *computeFragments) put(version int64, k fragmentKey, json []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// The key counts too: its origin is the request's Host, which the
	// client chooses.
	n := len(k.origin) + len(k.name) + len(json)
	if f.json == nil || f.version != version || f.bytes+n > maxFragmentBytes {
		f.json, f.version, f.bytes = make(map[fragmentKey][]byte), version, 0
	}
	if old, ok := f.json[k]; ok {
		f.bytes -= len(k.origin) + len(k.name) + len(old)
	}
	f.json[k] = json
	f.bytes += n
}
