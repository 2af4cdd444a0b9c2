package engine

import (
	"crypto/rand"
	"io"
	"os"
	"sync"

	"github.com/zeebo/xxh3"

	"github.com/feedsync/feedsync/store"
	"github.com/feedsync/feedsync/tree"
)

// Products known unchanged by what they are made from.
//
// A product's payload is a function of its tree.Input, of the settings the
// config fingerprint covers, and of the program that shapes it. The state
// keeps, beside each acknowledged payload's hash, the Input it was made
// from, under a seed of the other two: a run that finds a product of the
// same Input skips its shaping, JSON and SHA-256 (tree.Builder.FinishKnown).
// Any doubt shapes: a product that is uncertain, unresolved, not live, or
// whose record has no Input; a resync; a run whose observer needs every
// product; another build of feedsync (its executable's bytes are in the
// seed); other settings.

// inputSeed is the seed of the Inputs of a feed's products under the
// settings of fingerprint, by this program.
func inputSeed(fingerprint string) uint64 {
	h := xxh3.New()
	io.WriteString(h, "feedsync input v1\x00")
	io.WriteString(h, fingerprint)
	h.Write([]byte{0})
	p := programHash()
	h.Write(p[:])
	return h.Sum64()
}

var (
	programOnce sync.Once
	program     [16]byte
)

// programHash is the hash of this executable's bytes: a product shaped by
// another build is never taken for one shaped by this one. It reads the
// running image (/proc/self/exe, which stays the running inode after an
// upgrade renames a new binary over it), not the file at the executable's
// path: a daemon that outlives its upgrade must not record Inputs under the
// new build's seed while it shapes with the old code. Where there is no
// /proc, the path is read. An executable that cannot be read gets a random
// value: nothing matches, everything is shaped, as before Inputs existed.
func programHash() [16]byte {
	programOnce.Do(func() {
		paths := []string{"/proc/self/exe"}
		if p, err := os.Executable(); err == nil {
			paths = append(paths, p)
		}
		for _, p := range paths {
			if h, err := hashFile(p); err == nil {
				program = h
				return
			}
		}
		rand.Read(program[:])
	})
	return program
}

// hashFile is the XXH3-128 hash of a file's bytes.
func hashFile(path string) ([16]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return [16]byte{}, err
	}
	defer f.Close()
	h := xxh3.New()
	if _, err := io.Copy(h, f); err != nil {
		return [16]byte{}, err
	}
	return h.Sum128().Bytes(), nil
}

// knownInputs are the Inputs of a feed's settled live products, by a hash
// of their custom_id. A collision of two ids' hashes can only make a
// product look changed (the Inputs of two products differ, the custom_id
// being part of what each is made from), never unchanged.
type knownInputs map[uint64]tree.Input

func (k knownInputs) has(id string, in tree.Input) bool {
	v, ok := k[xxh3.HashString(id)]
	return ok && v == in
}

// loadKnown reads the known Inputs of the run's feed; nil when the run
// shapes every product.
func (r *run) loadKnown() (knownInputs, error) {
	if r.orders != nil || r.opts.Mode == ModeResync || r.opts.EveryProduct {
		return nil, nil
	}
	known := make(knownInputs, r.meta.Products) // the last run's count: no growth on the way
	err := r.s.DB.KnownInputs(r.fc.Name, func(id []byte, in [16]byte) {
		if r.unresolved[string(id)] {
			return // plan: an unfinished operation's product is sent again
		}
		known[xxh3.Hash(id)] = in
	})
	if err != nil {
		return nil, err
	}
	return known, nil
}

// startLoadKnown reads the known Inputs on a goroutine of their own; the
// function it returns waits for them, and may be called any number of
// times (a run that ends early waits too: no read outlives it).
func (r *run) startLoadKnown() func() (knownInputs, error) {
	var known knownInputs
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		known, err = r.loadKnown()
	}()
	return func() (knownInputs, error) {
		<-done
		return known, err
	}
}

// recordInputs keeps the Inputs the diff learnt, in batches.
func (r *run) recordInputs(fixes []store.InputFix) {
	if !r.write || len(fixes) == 0 {
		return
	}
	const batch = 50000
	for len(fixes) > 0 {
		n := min(batch, len(fixes))
		if err := r.s.DB.SetInputs(r.fc.Name, fixes[:n]); err != nil {
			r.log.Warn().Err(err).Msg("could not record what unchanged products are made from: the next run shapes them again")
			return
		}
		fixes = fixes[n:]
	}
}
