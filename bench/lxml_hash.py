#!/usr/bin/env python3
"""The reference of issue 19's side-by-side benchmark: what a no-change sync
costs in Python. It streams an RSS feed with lxml's iterparse and hashes each
item (SHA-256 of its canonical bytes), clearing parsed elements as it goes so
memory stays flat -- the usual way to read a large XML feed in Python.

    /usr/bin/python3 bench/lxml_hash.py testdata/bench/feed-1m.xml

Prints "items N seconds S" on stdout. Needs lxml (Debian: python3-lxml); exits
3 with a message when it is missing, so the Go benchmark that runs it skips.
It is a benchmark, never part of `make test`.
"""
import hashlib
import sys
import time

try:
    from lxml import etree
except ImportError:
    print("lxml is not installed (Debian: apt install python3-lxml)", file=sys.stderr)
    sys.exit(3)


def main(path):
    start = time.monotonic()
    n = 0
    digest = hashlib.sha256()
    for _, item in etree.iterparse(path, events=("end",), tag="item", huge_tree=True):
        h = hashlib.sha256(etree.tostring(item, method="c14n"))
        digest.update(h.digest())
        n += 1
        item.clear()
        parent = item.getparent()
        while parent is not None and item.getprevious() is not None:
            del parent[0]
    print(f"items {n} seconds {time.monotonic() - start:.2f} digest {digest.hexdigest()[:16]}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: lxml_hash.py FEED.xml", file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
