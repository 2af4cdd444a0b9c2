package engine

import (
	"crypto/rand"
	"io"
	"math/bits"
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
//
// It is a flat open-addressing table, not a Go map: one lookup per product
// of a run, at random over tens of megabytes, is one slot (a cache line or
// two) here, where a map walks its directory, a table, a control word and
// a slot. The slice's capacity is the table — slots at the hash's scaled
// position (its high bits times the capacity), linear probing, a zero
// Input marking a free slot (the state keeps no zero Input) — and its
// length the number of Inputs it holds, so that len and nil read as they
// did for a map: nil when the run shapes every product.
type knownInputs []knownSlot

type knownSlot struct {
	// key is the xxh3 of the custom_id, its lowest bit replaced by
	// whether the record holds Raws (keyRaws).
	key uint64
	in  tree.Input
}

// keyRaws is the bit of a slot's key that says its record holds Raws.
const keyRaws = 1

// newKnownInputs returns a table for n Inputs that does not grow.
func newKnownInputs(n int) knownInputs {
	return make(knownInputs, 0, max(n+(n+2)/3, 16)) // ⌈4n/3⌉: three quarters full at n
}

// slot is where the probe for key starts in a table of n slots.
func slot(key uint64, n int) int {
	hi, _ := bits.Mul64(key, uint64(n))
	return int(hi)
}

// has reports whether the product id is known made from in. A product
// that carries Raws (raws) whose record holds none is not: built once
// more, its Raws are learnt (see differ.fixes), or the feed could never be
// recognised by its items' bytes while it is unchanged.
func (k knownInputs) has(id string, in tree.Input, raws bool) bool {
	if cap(k) == 0 {
		return false // nil: nothing known, as a nil map
	}
	key := xxh3.HashString(id) | keyRaws
	t := k[:cap(k)]
	for i := slot(key, len(t)); ; {
		s := &t[i]
		if s.in == (tree.Input{}) {
			return false
		}
		if s.key|keyRaws == key {
			return s.in == in && (!raws || s.key&keyRaws != 0)
		}
		if i++; i == len(t) {
			i = 0
		}
	}
}

// put sets the Input of the custom_id whose hash is key, and whether its
// record holds Raws (a second Input under one key replaces the first, as a
// map's would; a zero one is not kept). The table doubles when three
// quarters full.
func (k knownInputs) put(key uint64, in tree.Input, raws bool) knownInputs {
	if in == (tree.Input{}) {
		return k // no Input: not known (the state keeps none)
	}
	key &^= keyRaws
	if raws {
		key |= keyRaws
	}
	if (len(k)+1)*4 > cap(k)*3 {
		bigger := make(knownInputs, 0, 2*cap(k))
		for _, s := range k[:cap(k)] {
			if s.in != (tree.Input{}) {
				bigger = bigger.put(s.key, s.in, s.key&keyRaws != 0)
			}
		}
		k = bigger
	}
	t := k[:cap(k)]
	for i := slot(key|keyRaws, len(t)); ; { // where has looks, whatever the bit
		s := &t[i]
		if s.in == (tree.Input{}) {
			*s = knownSlot{key, in}
			return k[:len(k)+1]
		}
		if s.key|keyRaws == key|keyRaws {
			*s = knownSlot{key, in}
			return k
		}
		if i++; i == len(t) {
			i = 0
		}
	}
}

// loadKnown reads the known Inputs of the run's feed; nil when the run
// shapes every product.
func (r *run) loadKnown() (knownInputs, error) {
	if r.orders != nil || r.opts.Mode == ModeResync || r.opts.EveryProduct {
		return nil, nil
	}
	known := newKnownInputs(r.meta.Products) // the last run's count: no growth on the way
	err := r.s.DB.KnownInputs(r.fc.Name, func(id []byte, in [16]byte, raws bool) {
		if r.unresolved[string(id)] {
			return // plan: an unfinished operation's product is sent again
		}
		known = known.put(xxh3.Hash(id), in, raws)
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
