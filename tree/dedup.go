package tree

import "github.com/feedsync/feedsync/feed"

// One custom_id, one product.
//
// Item ids, and product ids taken from another attribute, are unique in a
// Builder: Add skips an item whose id repeats an earlier one's, compared
// case-insensitively as Google compares item ids, and item_group_ids are
// matched case-insensitively too. Under the parent policy a group's
// custom_id is its item_group_id, and nothing stops a standalone item from
// having that same custom_id (item "SHIRT-1" and group "SHIRT-1"). Finish
// then emits the first of the two, in feed order, and skips the later one
// with a problem, so that every consumer (sync, transform, publish) gets
// the same products from the same feed.
//
// A custom_id, once made, is compared byte for byte (IDKey): that is how
// the catalog looks a product up, how the state keys it and how HasProduct
// answers. So item "g" and group "G" are two products, as they are two
// products in the catalog.

const gTaken uint8 = 1 << 6 // a standalone item with the group's id was emitted first: the parent is skipped

const dupMsg = "two products share this custom_id (a group id equal to another item's id?): the later one is skipped"

// resetDuplicates undoes what an earlier Finish recorded.
func (b *Builder) resetDuplicates() {
	if b.dupFrom >= 0 && b.dupFrom <= len(b.problems) {
		b.problems = b.problems[:b.dupFrom]
		b.skipped -= b.dupSkipped
	}
	b.dupFrom, b.dupSkipped = len(b.problems), 0
}

// standaloneTaken reports whether a standalone item's product id was taken
// by a parent emitted before it; otherwise it marks the parent with that id,
// if any, to be skipped when its turn comes.
func (b *Builder) standaloneTaken(id string) bool {
	if b.opts.Policy != PolicyParent || b.groups.len() == 0 {
		return false
	}
	gi, _, ok := b.findGroup(id)
	if !ok {
		return false
	}
	g := b.groups.at(gi)
	if g.n == 0 || b.groupID(g) != id {
		return false
	}
	if g.flags&gEmitted != 0 {
		return true
	}
	g.flags |= gTaken
	return false
}

// duplicate records a product skipped for its custom_id.
func (b *Builder) duplicate(p *Product) {
	line := 0
	if len(p.Lines) > 0 {
		line = p.Lines[0]
	}
	b.problems = append(b.problems, feed.Problem{Line: line, ItemID: p.ID, Kind: feed.ProblemSkippedItem, Msg: dupMsg})
	b.skipped++
	b.dupSkipped++
}

// IDKey is the form in which two custom_ids are the same product's: the id
// itself, byte for byte (see above). A consumer that takes products from
// elsewhere than one Finish (a published edition) keeps them unique by it.
func IDKey(id string) string { return id }
