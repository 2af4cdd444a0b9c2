package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/publish"
	"github.com/feedsync/feedsync/tree"
)

func newTransformCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "transform --policy parent|variant --to xml|csv|tsv|jsonl [-o OUT] [--product-id ATTR] [--link URL] [-c FILE --feed NAME] [PATH|URL|-]",
		Short: "Write a feed shaped by a policy as XML, CSV, TSV or JSONL",
		Long: `transform reads a feed (RSS 2.0, Atom, CSV or TSV; a path, an http(s) URL, or
- for standard input, its format detected from the content as for a file),
shapes it into products by the policy and field mapping exactly as sync would,
and writes the products as a feed: Google RSS 2.0 XML (the default), TSV, CSV,
or JSONL in the format of the file catalog. The output is itself a valid feed
that reads back into the same products.

This is how a shop hands User.com's own nightly XML import (a published,
create-or-update path keyed by g:id) a parent-level catalog:

  feedsync transform --policy parent -o public/products.xml https://shop.example/feed.xml

With -c and --feed the policy, product_id, fields, format and fetch settings
come from that configured feed (flags given explicitly win), and the feed's
url is read when no PATH|URL is given.

The XML channel's <link>, which RSS 2.0 requires, is --link, else the
configured feed's link:, else an http(s) source's URL without its user info
and query. A local file or standard input with neither gets a warning, and
the channel is written without a link. The fields only the parent policy
derives (price_max, colors, sizes, materials, patterns, variant_count,
in_stock_count) are not Google attributes: the XML has them in feedsync's
own namespace,
  xmlns:fs="` + publish.FeedsyncNS + `"
A product written with a price but no currency gets a warning (price-format,
lint's code for it); the output is written all the same.

-o writes atomically (a temporary file renamed into place); without it the
feed goes to standard output. The summary and any skipped items go to
standard error.`,
		Args: wrapArgs(cobra.MaximumNArgs(1)),
		Example: `  feedsync transform --policy parent -o public/products.xml https://shop.example/feed.xml
  feedsync transform --policy parent --to csv testdata/feeds/shop.xml
  curl -s https://shop.example/feed.xml | feedsync transform --policy parent --link https://shop.example/ -
  feedsync transform -c feedsync.yaml --feed shop --to jsonl -o shop.jsonl`,
		RunE: runTransform,
	}
	addConfigFlag(c)
	c.Flags().String("feed", "", "take policy, product_id, fields and the url from this configured feed (needs -c or $FEEDSYNC_CONFIG)")
	c.Flags().String("policy", "variant", "parent or variant")
	c.Flags().String("to", "xml", "output format: xml, csv, tsv or jsonl")
	c.Flags().StringP("output", "o", "", "output file, written atomically (default standard output)")
	c.Flags().String("product-id", "id", "attribute that identifies a product: id, gtin, mpn or any attribute")
	c.Flags().String("link", "", "the XML channel's <link>, an http(s) URL (default: the feed's link: with --feed, else an http(s) source's URL)")
	c.Flags().String("format", "auto", "input format: auto, rss, atom, csv or tsv")
	c.Flags().Bool("json", false, "print the summary as JSON on standard error")
	c.Flags().BoolP("quiet", "q", false, "print nothing but errors")
	completeFlag(c, "feed", completeFeeds(-1))
	completeFlag(c, "policy", completeValues("parent", "variant"))
	completeFlag(c, "to", completeValues("xml", "csv", "tsv", "jsonl"))
	completeFlag(c, "format", completeValues("auto", "rss", "atom", "csv", "tsv"))
	return c
}

func runTransform(cmd *cobra.Command, args []string) error {
	flags := cmd.Flags()
	jsonOut, _ := flags.GetBool("json")
	quiet, _ := flags.GetBool("quiet")
	out, _ := flags.GetString("output")
	in, err := resolveTransformInput(cmd, args)
	if err != nil {
		return err
	}
	opts, err := in.options(cmd)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var body io.Reader
	size := int64(-1)
	if in.stdin() {
		body = cmd.InOrStdin()
		size = stdinSize(body)
	} else {
		in.req.URL = in.src
		resp, err := feed.Fetch(ctx, in.req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body = resp.Body
		size = localSize(in.src)
	}

	prog := newTransformProgress(cmd, size)
	defer prog.Done()
	var problems []feed.Problem
	opts.OnProblem = func(p feed.Problem) { problems = append(problems, p) }
	prog.track(cmd, &opts)
	sum, err := writeTransform(ctx, prog.reading.Reader(body), cmd.OutOrStdout(), out, opts)
	prog.Done()
	if ctx.Err() != nil {
		return failedError{"interrupted"}
	}
	if err != nil {
		return err
	}
	return reportTransform(cmd.ErrOrStderr(), sum, problems, out, jsonOut, quiet)
}

// transformInput is what transform reads and how it shapes it, as given by
// the flags and, with --feed, the configured feed, before it is parsed.
type transformInput struct {
	policy, productID, format string
	src                       string // the PATH or URL to read; "-" for standard input
	link                      string // the XML channel's link; "" for the default
	fields                    map[string]string
	req                       feed.Request // how to fetch src; its URL is set when fetching
}

// stdinName names standard input in errors and in the summary.
const stdinName = "stdin"

// stdin reports whether the input is standard input.
func (in *transformInput) stdin() bool { return in.src == "-" }

// sourceName is what names the input in errors: "stdin" or the PATH or URL.
func (in *transformInput) sourceName() string {
	if in.stdin() {
		return stdinName
	}
	return in.src
}

// resolveTransformInput takes transform's settings from the flags and the
// PATH|URL argument and, with --feed, from that configured feed.
func resolveTransformInput(cmd *cobra.Command, args []string) (*transformInput, error) {
	flags := cmd.Flags()
	str := func(name string) string { v, _ := flags.GetString(name); return v }
	in := &transformInput{
		policy: str("policy"), productID: str("product-id"), format: str("format"), link: str("link"),
		req: feed.Request{UserAgent: userAgent()},
	}
	if flags.Changed("link") {
		if err := checkChannelLink(in.link); err != nil {
			return nil, usagef("--link %v", err)
		}
	}
	if len(args) == 1 {
		in.src = args[0]
	}
	if name := str("feed"); name != "" {
		if err := in.applyFeed(cmd, name); err != nil {
			return nil, err
		}
	} else if flags.Changed("config") {
		return nil, usagef("-c names a config file; add --feed NAME to take a feed's settings from it")
	}
	if in.src == "" {
		return nil, flagError{fmt.Errorf("transform needs a PATH or URL to read, - for standard input (or --feed NAME with -c)")}
	}
	return in, nil
}

// applyFeed takes the settings of the configured feed name: its policy,
// product_id, format and link unless given as flags, its fields, and its url
// and fetch settings unless a PATH|URL is given.
func (in *transformInput) applyFeed(cmd *cobra.Command, name string) error {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	fs, err := selectFeeds(cfg, []string{name})
	if err != nil {
		return err
	}
	fc, flags := fs[0], cmd.Flags()
	if !flags.Changed("policy") && fc.Policy != "" {
		in.policy = string(fc.Policy)
	}
	if !flags.Changed("product-id") && fc.ProductID != "" {
		in.productID = fc.ProductID
	}
	if !flags.Changed("format") && fc.Format != "" {
		in.format = string(fc.Format)
	}
	if !flags.Changed("link") && fc.Link != "" {
		if err := checkChannelLink(fc.Link); err != nil {
			return usagef("feed %s: link: %v", fc.Name, err)
		}
		in.link = fc.Link
	}
	in.fields = fc.Fields
	if in.src == "" {
		in.src = fc.URL
		in.req.Headers, in.req.Timeout = fc.Headers, time.Duration(fc.Timeout)
		in.req.MaxBytes = int64(fc.MaxSize)
	}
	return nil
}

// options parses the settings and the --to flag into the options of
// publish.Transform, reporting a bad value as a usage error.
func (in *transformInput) options(cmd *cobra.Command) (publish.TransformOptions, error) {
	var opts publish.TransformOptions
	pol, err := tree.ParsePolicy(in.policy)
	if err != nil {
		return opts, usagef("--policy %v", err)
	}
	toFlag, _ := cmd.Flags().GetString("to")
	to, err := publish.ParseOutputFormat(toFlag)
	if err != nil {
		return opts, usagef("--to %v", err)
	}
	inFormat, err := feed.ParseFormat(in.format)
	if err != nil {
		return opts, usagef("--format %v", err)
	}
	if err := tree.CheckFields(in.fields); err != nil {
		return opts, usagef("%v", err)
	}
	return publish.TransformOptions{
		Policy: pol, ProductID: in.productID, Fields: in.fields, Format: inFormat, To: to, Source: in.sourceName(),
		Link: in.link,
	}, nil
}

// checkChannelLink checks a channel link: an absolute http(s) URL.
func checkChannelLink(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want an absolute http(s) URL, such as https://shop.example.com/", s)
	}
	return nil
}

// transformProgress shows transform's two stages: reading the feed, then
// writing the products.
type transformProgress struct {
	reading, writing progress
}

// newTransformProgress starts the reading stage for a feed of size bytes
// (-1: unknown); the writing stage starts once the feed is read (see track).
func newTransformProgress(cmd *cobra.Command, size int64) *transformProgress {
	return &transformProgress{
		reading: newProgress(cmd, size, "reading feed", unitBytes),
		writing: noProgress{},
	}
}

// track sets opts' OnRead and OnProduct to end the reading stage, start the
// writing stage (its total known under the variant policy) and count the
// products written.
func (p *transformProgress) track(cmd *cobra.Command, opts *publish.TransformOptions) {
	pol := opts.Policy
	opts.OnRead = func(items int) {
		p.reading.Done()
		total := int64(-1)
		if pol == tree.PolicyVariant {
			total = int64(items)
		}
		p.writing = newProgress(cmd, total, "writing products", unitProducts)
	}
	opts.OnProduct = func() { p.writing.Add(1) }
}

// Done ends both stages, the writing one first.
func (p *transformProgress) Done() {
	p.writing.Done()
	p.reading.Done()
}

// writeTransform transforms the feed read from in into products written to
// stdout when out is "" or "-", else to the file out, written atomically.
func writeTransform(ctx context.Context, in io.Reader, stdout io.Writer, out string, opts publish.TransformOptions) (publish.TransformSummary, error) {
	if out == "" || out == "-" {
		return publish.Transform(ctx, in, stdout, opts)
	}
	var sum publish.TransformSummary
	err := publish.WriteFileAtomic(out, 0o644, func(w io.Writer) error {
		var terr error
		sum, terr = publish.Transform(ctx, in, w, opts)
		return terr
	})
	return sum, err
}

// localSize is the size of a local feed file, or -1 (a URL, or unknown).
func localSize(src string) int64 {
	if strings.Contains(src, "://") && !strings.HasPrefix(src, "file://") {
		return -1
	}
	st, err := os.Stat(strings.TrimPrefix(src, "file://"))
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	return st.Size()
}

// stdinSize is the size of standard input when it is a regular file (a
// redirect), or -1.
func stdinSize(r io.Reader) int64 {
	f, ok := r.(*os.File)
	if !ok {
		return -1
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	if off, err := f.Seek(0, io.SeekCurrent); err == nil && off <= st.Size() {
		return st.Size() - off
	}
	return -1
}

// maxProblemsShown caps the skipped items listed on standard error.
const maxProblemsShown = 20

func reportTransform(w io.Writer, sum publish.TransformSummary, problems []feed.Problem, out string, jsonOut, quiet bool) error {
	if jsonOut {
		return json.NewEncoder(w).Encode(struct {
			publish.TransformSummary
			Output   string   `json:"output,omitempty"`
			Problems []string `json:"problems,omitempty"`
		}{sum, out, problemStrings(problems)})
	}
	if quiet {
		return nil
	}
	// Warnings about the whole output (no channel link, a count) come
	// first and are never cut; those about items are capped.
	var items []feed.Problem
	for _, p := range problems {
		if p.Line == 0 && p.ItemID == "" {
			fmt.Fprintf(w, "warning: %s\n", p.Msg)
		} else {
			items = append(items, p)
		}
	}
	for i, p := range items {
		if i == maxProblemsShown {
			fmt.Fprintf(w, "… and %d more\n", len(items)-maxProblemsShown)
			break
		}
		fmt.Fprintf(w, "warning: %s\n", p)
	}
	dest := "standard output"
	if out != "" && out != "-" {
		dest = out
	}
	fmt.Fprintf(w, "transform: %d items → %d products", sum.Items, sum.Products)
	if sum.Skipped > 0 {
		fmt.Fprintf(w, ", %d skipped", sum.Skipped)
	}
	fmt.Fprintf(w, "; written to %s\n", dest)
	return nil
}

func problemStrings(ps []feed.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = problemString(p)
	}
	return out
}

// problemString is a problem as shown: without "line 0" when it concerns
// no line and no item (the channel link, a count of products).
func problemString(p feed.Problem) string {
	if p.Line == 0 && p.ItemID == "" {
		return p.Msg
	}
	return p.String()
}
