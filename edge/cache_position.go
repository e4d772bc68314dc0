package edge

import (
	"encoding/binary"

	"github.com/dgraph-io/badger/v4"
)

// positionKey holds, in Badger, the sequence of the last purge the cache
// applied. Cache keys start with a cloud name, never with NUL.
const positionKey = "\x00purge-position"

// loadPosition reads the position of a disk tier that was opened valid;
// a rebuilt (or memory-only) cache has none.
func (c *cache) loadPosition() {
	if c.disk == nil {
		return
	}
	v, err := c.disk.read(positionKey)
	if err == nil && len(v) == 8 {
		c.pos.Store(binary.BigEndian.Uint64(v))
		c.posKnown.Store(true)
	}
}

// position is the last purge applied, if known.
func (c *cache) position() (uint64, bool) { return c.pos.Load(), c.posKnown.Load() }

// setPosition records seq as applied, on disk after the deletes of the
// purges before it (the writer runs jobs in order, and Badger commits
// them in order: a position on disk never runs ahead of its deletes).
func (c *cache) setPosition(seq uint64) {
	c.pos.Store(seq)
	c.posKnown.Store(true)
	if c.disk == nil {
		return
	}
	v := binary.BigEndian.AppendUint64(nil, seq)
	c.disk.await(func() {
		c.disk.write(int64(len(positionKey)+len(v)), func(db *badger.DB) error {
			return db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(positionKey), v) })
		})
	})
}

// dropAll empties both tiers and returns how many entries went (the
// larger tier's count).
func (c *cache) dropAll() int {
	all := func(string) bool { return true }
	c.purgeMu.Lock()
	c.gen.Add(1)
	mem := c.mem.removeMatch(all)
	keys := c.index.removeMatch(all)
	c.purgeMu.Unlock()
	if c.disk != nil {
		c.disk.await(func() {
			c.disk.write(0, func(db *badger.DB) error { return db.DropAll() })
		})
	}
	return max(len(keys), len(mem))
}
