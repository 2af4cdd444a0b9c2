package tree

// EachID calls fn with every id an order line may name a product by — each
// item's id and product id, and its sku, gtin and mpn when the mapping
// sends them — and the custom_id of the product the item became under the
// policy: under parent, a variant's ids all lead to its group's id. Call it
// after the last Add; it reads the spill once. An alias two items share
// (a gtin on two variants of one group) is given for each.
func (b *Builder) EachID(fn func(alias, custom string) error) error {
	b.finalize()
	if b.err != nil {
		return b.err
	}
	if err := b.spill.flush(); err != nil {
		return err
	}
	var extra []int // specs of sku, gtin and mpn
	for _, k := range []string{FieldSKU, "gtin", "mpn"} {
		if i, ok := b.m.index[k]; ok {
			extra = append(extra, i)
		}
	}
	return b.spill.each(func(_ int64, r *record) error {
		custom := r.productID
		if r.group >= 0 && b.opts.Policy == PolicyParent {
			custom = b.groupID(b.groups.at(r.group))
		}
		if r.itemID != "" {
			if err := fn(r.itemID, custom); err != nil {
				return err
			}
		}
		if r.productID != "" && r.productID != r.itemID {
			if err := fn(r.productID, custom); err != nil {
				return err
			}
		}
		for _, f := range r.fields {
			for _, i := range extra {
				if f.spec == i && f.value != "" && f.value != r.itemID && f.value != r.productID {
					if err := fn(f.value, custom); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}
