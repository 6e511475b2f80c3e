// Command tlogcheck is an independent client for tilelog interop tests. It
// checks a C2SP tlog-tiles log with Go's own golang.org/x/mod/sumdb/note and
// golang.org/x/mod/sumdb/tlog, and exercises note keys in both directions.
//
// Usage:
//
//	tlogcheck [check] (-dir <tree dir> | -url <base URL>) -vkey <vkey|@file> [-origin <origin>]
//	          [-checkpoint <file|URL>] [-old <file|URL>]... [-proofs all|none|<n>, default 256] [-recompute=false]
//	tlogcheck keys -skey <skey|@file> -vkey <vkey|@file> [-text <text>]
//	tlogcheck verify -vkey <vkey|@file> -note <file|->
//	tlogcheck keygen -name <name>
//
// check: opens the checkpoint with note.Open (origin must match; default: the
// key name), authenticates hash tiles with tlog.TileHashReader against the
// checkpoint root, recomputes the tree hash, reads every entry bundle and
// compares each leaf hash with the authenticated level-0 hashes, checks
// inclusion proofs (tlog.ProveRecord/CheckRecord), rebuilds the tree from the
// entries with tlog.StoredHashesForRecordHash and compares its root and every
// hash tile (tlog.ReadTileData) byte for byte, and for each -old checkpoint
// checks a consistency proof (tlog.ProveTree/CheckTree), the old tree hash
// from the tiles at the old size, and the old-size tiles byte for byte.
//
// Go's sumdb tile paths tile/8/L/N[.p/W] and tile/8/data/N[.p/W] are mapped to
// C2SP tile/L/N[.p/W] and tile/entries/N[.p/W]. A missing partial tile falls
// back to the first W hashes (entries) of the full tile.
//
// Output is one line of JSON on stdout; exit status 0 on success, 1 on a
// failed check, 2 on a usage error. Build in GOPATH mode, offline:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o tlogcheck ./test/interop/go/tlogcheck
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const tileHeight = 8 // C2SP tlog-tiles: 256 hashes per tile

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	args := os.Args[1:]
	mode := "check"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		mode, args = args[0], args[1:]
	}
	var result map[string]any
	var err error
	switch mode {
	case "check":
		result, err = runCheck(args)
	case "keys":
		result, err = runKeys(args)
	case "verify":
		result, err = runVerify(args)
	case "keygen":
		result, err = runKeygen(args)
	default:
		err = usageError{fmt.Sprintf("unknown mode %q (want check, keys, verify or keygen)", mode)}
	}
	if err != nil {
		emit(map[string]any{"ok": false, "mode": mode, "error": err.Error()})
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
	result["ok"] = true
	result["mode"] = mode
	emit(result)
}

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

// ---- check ----

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func runCheck(args []string) (map[string]any, error) {
	fl := flag.NewFlagSet("check", flag.ContinueOnError)
	fl.SetOutput(os.Stderr)
	dir := fl.String("dir", "", "directory holding checkpoint and tile/")
	base := fl.String("url", "", "base URL of the log (the tlog-tiles prefix)")
	vkeyArg := fl.String("vkey", "", "log verifier key, or @file")
	origin := fl.String("origin", "", "expected origin (default: the key name)")
	cpArg := fl.String("checkpoint", "", "checkpoint file or URL (default: <dir|url>/checkpoint)")
	proofs := fl.String("proofs", "256", "inclusion proofs to check: all, none, or a count spread evenly over the tree (every leaf is checked against the authenticated tiles regardless)")
	recompute := fl.Bool("recompute", true, "rebuild every stored hash from the entries and compare each hash tile byte for byte (memory: 64 bytes per entry)")
	var olds stringList
	fl.Var(&olds, "old", "an older signed checkpoint (file or URL) to prove consistent; repeatable")
	if err := fl.Parse(args); err != nil {
		return nil, usageError{err.Error()}
	}
	if (*dir == "") == (*base == "") {
		return nil, usageError{"need exactly one of -dir and -url"}
	}
	if *vkeyArg == "" {
		return nil, usageError{"need -vkey"}
	}
	vkey, err := readArg(*vkeyArg)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("vkey: %v", err)
	}
	if *origin == "" {
		*origin = verifier.Name()
	}

	src := &tileSource{dir: *dir, base: strings.TrimSuffix(*base, "/"), cache: map[string][]byte{}}
	cpPath := *cpArg
	var cpBytes []byte
	if cpPath == "" {
		cpBytes, err = src.get("checkpoint")
	} else {
		cpBytes, err = readLocation(cpPath)
	}
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %v", err)
	}
	tree, err := openCheckpoint(cpBytes, *origin, verifier)
	if err != nil {
		return nil, err
	}

	reader := &tileReader{src: src}
	thr := tlog.TileHashReader(tree, reader)

	// 1. Tree hash from authenticated tiles.
	if tree.N > 0 {
		th, err := tlog.TreeHash(tree.N, thr)
		if err != nil {
			return nil, fmt.Errorf("tree hash at size %d: %v", tree.N, err)
		}
		if th != tree.Hash {
			return nil, fmt.Errorf("tree hash %v != checkpoint root %v", th, tree.Hash)
		}
	}

	// 2. Every entry bundle; each leaf hash must equal the authenticated level-0 hash.
	leafHashes, bundles, err := checkEntries(src, tree.N, thr)
	if err != nil {
		return nil, err
	}

	// 3. Inclusion proofs.
	nProofs, err := checkInclusion(tree, thr, leafHashes, *proofs)
	if err != nil {
		return nil, err
	}

	// 4. Independent of TileHashReader (see authenticateAll): rebuild the tree
	// from the entries and compare every hash tile byte for byte.
	var stored memHashes
	tilesCompared := 0
	if *recompute {
		if stored, err = buildStoredHashes(leafHashes); err != nil {
			return nil, err
		}
		if err := checkRoot(tree, stored); err != nil {
			return nil, err
		}
		n, err := compareTiles(tree.N, stored, reader)
		if err != nil {
			return nil, err
		}
		tilesCompared += n
	}

	// 5. Consistency with older checkpoints.
	var cons []map[string]any
	for _, loc := range olds {
		b, err := readLocation(loc)
		if err != nil {
			return nil, fmt.Errorf("reading old checkpoint %s: %v", loc, err)
		}
		old, err := openCheckpoint(b, *origin, verifier)
		if err != nil {
			return nil, fmt.Errorf("old checkpoint %s: %v", loc, err)
		}
		if err := checkConsistency(old, tree, thr, reader); err != nil {
			return nil, fmt.Errorf("old checkpoint %s: %v", loc, err)
		}
		if *recompute && old.N > 0 {
			if err := checkRoot(old, stored); err != nil {
				return nil, fmt.Errorf("old checkpoint %s: %v", loc, err)
			}
			n, err := compareTiles(old.N, stored, reader)
			if err != nil {
				return nil, fmt.Errorf("old checkpoint %s: %v", loc, err)
			}
			tilesCompared += n
		}
		cons = append(cons, map[string]any{"old": old.N, "root": old.Hash.String()})
	}

	return map[string]any{
		"origin":           *origin,
		"size":             tree.N,
		"root":             tree.Hash.String(),
		"bundles":          bundles,
		"entries":          len(leafHashes),
		"inclusionProofs":  nProofs,
		"consistency":      cons,
		"tilesRead":        len(src.cache),
		"tilesCompared":    tilesCompared,
		"partialFallbacks": reader.fallbacks + src.bundleFallbacks,
	}, nil
}

// openCheckpoint verifies msg with Go's note.Open and parses the checkpoint
// text strictly: origin, canonical decimal size, canonical base64 root.
func openCheckpoint(msg []byte, origin string, v note.Verifier) (tlog.Tree, error) {
	if len(msg) > 1_000_000 {
		return tlog.Tree{}, fmt.Errorf("checkpoint larger than 1,000,000 bytes")
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("note.Open: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		return tlog.Tree{}, fmt.Errorf("checkpoint has %d lines, want at least 3", len(lines))
	}
	for i, l := range lines {
		if l == "" {
			return tlog.Tree{}, fmt.Errorf("checkpoint line %d is empty", i+1)
		}
	}
	if lines[0] != origin {
		return tlog.Tree{}, fmt.Errorf("checkpoint origin %q, want %q", lines[0], origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return tlog.Tree{}, fmt.Errorf("checkpoint size %q is not canonical decimal", lines[1])
	}
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize || base64.StdEncoding.EncodeToString(root) != lines[2] {
		return tlog.Tree{}, fmt.Errorf("checkpoint root %q is not canonical base64 of 32 bytes", lines[2])
	}
	var h tlog.Hash
	copy(h[:], root)
	if size == 0 && h != (tlog.Hash{0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55}) {
		return tlog.Tree{}, fmt.Errorf("size 0 checkpoint without the empty-tree root")
	}
	return tlog.Tree{N: size, Hash: h}, nil
}

func checkEntries(src *tileSource, size int64, thr tlog.HashReader) ([]tlog.Hash, int, error) {
	var leaves []tlog.Hash
	bundles := 0
	for start := int64(0); start < size; start += 1 << tileHeight {
		w := size - start
		if w > 1<<tileHeight {
			w = 1 << tileHeight
		}
		t := tlog.Tile{H: tileHeight, L: -1, N: start >> tileHeight, W: int(w)}
		data, err := src.bundle(t)
		if err != nil {
			return nil, 0, err
		}
		entries, err := parseBundle(data, int(w))
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %v", c2spPath(t), err)
		}
		bundles++
		indexes := make([]int64, w)
		for i := range indexes {
			indexes[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		want, err := thr.ReadHashes(indexes)
		if err != nil {
			return nil, 0, fmt.Errorf("level-0 hashes for %s: %v", c2spPath(t), err)
		}
		for i, e := range entries {
			h := tlog.RecordHash(e)
			if h != want[i] {
				return nil, 0, fmt.Errorf("entry %d in %s hashes to %v, tree has %v", start+int64(i), c2spPath(t), h, want[i])
			}
			leaves = append(leaves, h)
		}
	}
	return leaves, bundles, nil
}

// parseBundle splits repeated uint16be length || bytes; exactly want entries, no trailing bytes.
func parseBundle(data []byte, want int) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, fmt.Errorf("truncated length prefix")
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, fmt.Errorf("entry %d truncated", len(out))
		}
		out = append(out, data[2:2+n])
		data = data[2+n:]
	}
	if len(out) != want {
		return nil, fmt.Errorf("bundle has %d entries, want %d", len(out), want)
	}
	return out, nil
}

func checkInclusion(tree tlog.Tree, thr tlog.HashReader, leaves []tlog.Hash, proofs string) (int, error) {
	n := int64(len(leaves))
	var idx []int64
	switch proofs {
	case "none":
	case "all":
		for i := int64(0); i < n; i++ {
			idx = append(idx, i)
		}
	default:
		k, err := strconv.Atoi(proofs)
		if err != nil || k < 0 {
			return 0, usageError{fmt.Sprintf("-proofs %q: want all, none or a count", proofs)}
		}
		// k indexes spread evenly over [0, n), always including the first and the last.
		for j := 0; j < k && n > 0; j++ {
			i := int64(0)
			if k > 1 {
				i = int64(math.Round(float64(j) * float64(n-1) / float64(k-1)))
			}
			idx = append(idx, i)
		}
	}
	for _, i := range idx {
		p, err := tlog.ProveRecord(tree.N, i, thr)
		if err != nil {
			return 0, fmt.Errorf("ProveRecord(%d, %d): %v", tree.N, i, err)
		}
		if err := tlog.CheckRecord(p, tree.N, tree.Hash, i, leaves[i]); err != nil {
			return 0, fmt.Errorf("CheckRecord(%d, %d): %v", tree.N, i, err)
		}
	}
	return len(idx), nil
}

func checkConsistency(old, tree tlog.Tree, thr tlog.HashReader, reader *tileReader) error {
	if old.N > tree.N {
		return fmt.Errorf("old size %d > current size %d", old.N, tree.N)
	}
	if old.N == tree.N {
		if old.Hash != tree.Hash {
			return fmt.Errorf("same size %d with different roots", old.N)
		}
		return nil
	}
	if old.N == 0 {
		return nil
	}
	p, err := tlog.ProveTree(tree.N, old.N, thr)
	if err != nil {
		return fmt.Errorf("ProveTree(%d, %d): %v", tree.N, old.N, err)
	}
	if err := tlog.CheckTree(p, tree.N, tree.Hash, old.N, old.Hash); err != nil {
		return fmt.Errorf("CheckTree(%d, %d): %v", tree.N, old.N, err)
	}
	// The tiles as a log would have served them at the old size also give the old root.
	th, err := tlog.TreeHash(old.N, tlog.TileHashReader(old, reader))
	if err != nil {
		return fmt.Errorf("tree hash at old size %d from tiles: %v", old.N, err)
	}
	if th != old.Hash {
		return fmt.Errorf("tiles give root %v at size %d, checkpoint says %v", th, old.N, old.Hash)
	}
	return nil
}

// Why recompute: tlog.TileHashReader (x/mod 0.7.0 and golang/mod HEAD fe2ec04)
// authenticates the non-right-edge tiles in a loop that starts at len(stx), the
// number of right-edge subtree hashes, although only the distinct right-edge
// tiles precede them in its tile list. When several right-edge hashes share a
// tile (e.g. size 70000: six hashes in three tiles), up to len(stx) - #tiles
// full tiles are returned without being checked against their parents. Go's
// own client is still safe because it runs CheckRecord against the signed
// root, but "hashes returned are proven to be in the tree" does not hold, so
// this checker does not rely on it alone.

// memHashes is every stored hash of a tree, in Go's stored-hash order.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("stored hash %d not in tree (have %d)", x, len(m))
		}
		out[i] = m[x]
	}
	return out, nil
}

// buildStoredHashes appends the leaves one by one with tlog.StoredHashesForRecordHash.
func buildStoredHashes(leaves []tlog.Hash) (memHashes, error) {
	stored := make(memHashes, 0, 2*len(leaves))
	for n, h := range leaves {
		hs, err := tlog.StoredHashesForRecordHash(int64(n), h, stored)
		if err != nil {
			return nil, fmt.Errorf("StoredHashesForRecordHash(%d): %v", n, err)
		}
		stored = append(stored, hs...)
	}
	return stored, nil
}

// checkRoot compares the checkpoint root with the tree hash of the entries alone.
func checkRoot(tree tlog.Tree, stored memHashes) error {
	th, err := tlog.TreeHash(tree.N, stored)
	if err != nil {
		return fmt.Errorf("tree hash of the entries at size %d: %v", tree.N, err)
	}
	if th != tree.Hash {
		return fmt.Errorf("entries hash to root %v at size %d, checkpoint says %v", th, tree.N, tree.Hash)
	}
	return nil
}

// tilesForSize lists every hash tile of a tree of size n: at each level L with
// n >> 8L > 0, full tiles [0, n >> 8(L+1)) and one partial tile of width
// (n >> 8L) mod 256 if that is non-zero.
func tilesForSize(n int64) []tlog.Tile {
	var tiles []tlog.Tile
	for L := 0; n>>(uint(L)*tileHeight) > 0; L++ {
		full := n >> (uint(L+1) * tileHeight)
		for k := int64(0); k < full; k++ {
			tiles = append(tiles, tlog.Tile{H: tileHeight, L: L, N: k, W: 1 << tileHeight})
		}
		if w := (n >> (uint(L) * tileHeight)) % (1 << tileHeight); w > 0 {
			tiles = append(tiles, tlog.Tile{H: tileHeight, L: L, N: full, W: int(w)})
		}
	}
	return tiles
}

// compareTiles checks each hash tile of size n against tlog.ReadTileData of the rebuilt tree.
func compareTiles(n int64, stored memHashes, reader *tileReader) (int, error) {
	tiles := tilesForSize(n)
	for _, t := range tiles {
		want, err := tlog.ReadTileData(t, stored)
		if err != nil {
			return 0, fmt.Errorf("ReadTileData(%s): %v", c2spPath(t), err)
		}
		got, err := reader.ReadTiles([]tlog.Tile{t})
		if err != nil {
			return 0, err
		}
		if !bytes.Equal(got[0], want) {
			return 0, fmt.Errorf("%s differs from the tile rebuilt from the entries", c2spPath(t))
		}
	}
	return len(tiles), nil
}

// ---- tile access ----

// c2spPath maps Go's sumdb tile path to the C2SP tlog-tiles path:
// tile/8/L/N[.p/W] -> tile/L/N[.p/W], tile/8/data/N[.p/W] -> tile/entries/N[.p/W].
func c2spPath(t tlog.Tile) string {
	p := t.Path()
	prefix := fmt.Sprintf("tile/%d/", tileHeight)
	if !strings.HasPrefix(p, prefix) {
		panic("unexpected tile path " + p)
	}
	rest := strings.TrimPrefix(p, prefix)
	if strings.HasPrefix(rest, "data/") {
		rest = "entries/" + strings.TrimPrefix(rest, "data/")
	}
	return "tile/" + rest
}

type tileSource struct {
	dir, base       string
	cache           map[string][]byte
	bundleFallbacks int
}

var errNotFound = errors.New("not found")

// get reads one object from the directory or URL; errNotFound when absent.
func (s *tileSource) get(path string) ([]byte, error) {
	if b, ok := s.cache[path]; ok {
		return b, nil
	}
	var b []byte
	var err error
	if s.dir != "" {
		b, err = os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(path)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errNotFound
		}
	} else {
		b, err = httpGet(s.base + "/" + path)
	}
	if err != nil {
		return nil, err
	}
	if path != "checkpoint" {
		s.cache[path] = b
	}
	return b, nil
}

// bundle reads entry bundle t, falling back from a missing partial bundle to the full one.
func (s *tileSource) bundle(t tlog.Tile) ([]byte, error) {
	data, err := s.get(c2spPath(t))
	if err == nil || !errors.Is(err, errNotFound) || t.W == 1<<tileHeight {
		if err != nil {
			return nil, fmt.Errorf("%s: %v", c2spPath(t), err)
		}
		return data, nil
	}
	full := t
	full.W = 1 << tileHeight
	data, err = s.get(c2spPath(full))
	if err != nil {
		return nil, fmt.Errorf("%s (and full %s): %v", c2spPath(t), c2spPath(full), err)
	}
	// Keep exactly the first W entries.
	off := 0
	for i := 0; i < t.W; i++ {
		if off+2 > len(data) {
			return nil, fmt.Errorf("%s: truncated", c2spPath(full))
		}
		off += 2 + int(binary.BigEndian.Uint16(data[off:]))
	}
	if off > len(data) {
		return nil, fmt.Errorf("%s: truncated", c2spPath(full))
	}
	s.bundleFallbacks++
	return data[:off], nil
}

type tileReader struct {
	src       *tileSource
	fallbacks int
}

func (r *tileReader) Height() int { return tileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := r.src.get(c2spPath(t))
		if errors.Is(err, errNotFound) && t.W < 1<<tileHeight {
			// A partial tile may be gone once its full tile exists; the first W
			// hashes of the full tile are the same (append-only tree).
			full := t
			full.W = 1 << tileHeight
			if data, err = r.src.get(c2spPath(full)); err == nil {
				if len(data) != full.W*tlog.HashSize {
					return nil, fmt.Errorf("%s: %d bytes, want %d", c2spPath(full), len(data), full.W*tlog.HashSize)
				}
				data = data[:t.W*tlog.HashSize]
				r.fallbacks++
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", c2spPath(t), err)
		}
		if len(data) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("%s: %d bytes, want %d", c2spPath(t), len(data), t.W*tlog.HashSize)
		}
		out[i] = data
	}
	return out, nil
}

func (r *tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

var httpClient = &http.Client{Timeout: 30 * time.Second}

func httpGet(url string) ([]byte, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, errNotFound
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var body io.Reader = io.LimitReader(resp.Body, 64<<20)
	// The Transport gunzips when it asked for gzip itself; a server may also
	// send gzip unasked (tlog-tiles allows it for bundles).
	if !resp.Uncompressed && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %v", url, err)
		}
		body = zr
	}
	return io.ReadAll(body)
}

func readLocation(loc string) ([]byte, error) {
	if strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://") {
		return httpGet(loc)
	}
	if loc == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(loc)
}

// readArg returns s, or the trimmed contents of file f for "@f".
func readArg(s string) (string, error) {
	if !strings.HasPrefix(s, "@") {
		return s, nil
	}
	b, err := os.ReadFile(s[1:])
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// ---- keys ----

// runKeys parses a signer and a verifier key with Go's note package, signs a
// note with one and opens it with the other.
func runKeys(args []string) (map[string]any, error) {
	fl := flag.NewFlagSet("keys", flag.ContinueOnError)
	fl.SetOutput(os.Stderr)
	skeyArg := fl.String("skey", "", "signer key, or @file")
	vkeyArg := fl.String("vkey", "", "verifier key, or @file")
	text := fl.String("text", "tilelog interop: signed in Go\n", "note text (must end in LF)")
	if err := fl.Parse(args); err != nil {
		return nil, usageError{err.Error()}
	}
	if *skeyArg == "" || *vkeyArg == "" {
		return nil, usageError{"need -skey and -vkey"}
	}
	skey, err := readArg(*skeyArg)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	vkey, err := readArg(*vkeyArg)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("note.NewSigner: %v", err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("note.NewVerifier: %v", err)
	}
	msg, err := note.Sign(&note.Note{Text: *text}, signer)
	if err != nil {
		return nil, fmt.Errorf("note.Sign: %v", err)
	}
	if _, err := note.Open(msg, note.VerifierList(verifier)); err != nil {
		return nil, fmt.Errorf("note.Open: %v", err)
	}
	return map[string]any{
		"name":    signer.Name(),
		"keyHash": fmt.Sprintf("%08x", signer.KeyHash()),
		"note":    string(msg),
	}, nil
}

// runVerify opens a note file (or stdin) with one verifier key.
func runVerify(args []string) (map[string]any, error) {
	fl := flag.NewFlagSet("verify", flag.ContinueOnError)
	fl.SetOutput(os.Stderr)
	vkeyArg := fl.String("vkey", "", "verifier key, or @file")
	noteArg := fl.String("note", "-", "note file, URL, or - for stdin")
	if err := fl.Parse(args); err != nil {
		return nil, usageError{err.Error()}
	}
	vkey, err := readArg(*vkeyArg)
	if err != nil || vkey == "" {
		return nil, usageError{"need -vkey"}
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("note.NewVerifier: %v", err)
	}
	msg, err := readLocation(*noteArg)
	if err != nil {
		return nil, err
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return nil, fmt.Errorf("note.Open: %v", err)
	}
	var sigs []map[string]any
	for _, s := range n.Sigs {
		sigs = append(sigs, map[string]any{"name": s.Name, "keyHash": fmt.Sprintf("%08x", s.Hash)})
	}
	return map[string]any{"text": n.Text, "sigs": sigs, "unverified": len(n.UnverifiedSigs)}, nil
}

// runKeygen makes a key pair with Go's note.GenerateKey.
func runKeygen(args []string) (map[string]any, error) {
	fl := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fl.SetOutput(os.Stderr)
	name := fl.String("name", "", "key name")
	if err := fl.Parse(args); err != nil {
		return nil, usageError{err.Error()}
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, *name)
	if err != nil {
		return nil, fmt.Errorf("note.GenerateKey: %v", err)
	}
	return map[string]any{"skey": skey, "vkey": vkey}, nil
}
