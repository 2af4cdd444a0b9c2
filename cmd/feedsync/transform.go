package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/feedsync/feedsync"
	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/tree"
)

func newTransformCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "transform --policy parent|variant --to xml|csv|tsv|jsonl [-o OUT] [--product-id ATTR] [-c FILE --feed NAME] [PATH|URL]",
		Short: "Write a feed shaped by a policy as XML, CSV, TSV or JSONL",
		Long: `transform reads a feed (RSS 2.0, Atom, CSV or TSV; a path or an http(s) URL),
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

-o writes atomically (a temporary file renamed into place); without it the
feed goes to standard output. The summary and any skipped items go to
standard error.`,
		Args: wrapArgs(cobra.MaximumNArgs(1)),
		RunE: runTransform,
	}
	addConfigFlag(c)
	c.Flags().String("feed", "", "take policy, product_id, fields and the url from this configured feed (needs -c or $FEEDSYNC_CONFIG)")
	c.Flags().String("policy", "variant", "parent or variant")
	c.Flags().String("to", "xml", "output format: xml, csv, tsv or jsonl")
	c.Flags().StringP("output", "o", "", "output file, written atomically (default standard output)")
	c.Flags().String("product-id", "id", "attribute that identifies a product: id, gtin, mpn or any attribute")
	c.Flags().String("format", "auto", "input format: auto, rss, atom, csv or tsv")
	c.Flags().Bool("json", false, "print the summary as JSON on standard error")
	c.Flags().BoolP("quiet", "q", false, "print nothing but errors")
	return c
}

func runTransform(cmd *cobra.Command, args []string) error {
	flags := cmd.Flags()
	str := func(name string) string { v, _ := flags.GetString(name); return v }
	jsonOut, _ := flags.GetBool("json")
	quiet, _ := flags.GetBool("quiet")

	policy, productID, format, src := str("policy"), str("product-id"), str("format"), ""
	var fields map[string]string
	req := feed.Request{UserAgent: userAgent()}
	if len(args) == 1 {
		src = args[0]
	}
	if name := str("feed"); name != "" {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return err
		}
		fs, err := selectFeeds(cfg, []string{name})
		if err != nil {
			return err
		}
		fc := fs[0]
		if !flags.Changed("policy") && fc.Policy != "" {
			policy = fc.Policy
		}
		if !flags.Changed("product-id") && fc.ProductID != "" {
			productID = fc.ProductID
		}
		if !flags.Changed("format") && fc.Format != "" {
			format = fc.Format
		}
		fields = fc.Fields
		if src == "" {
			src = fc.URL
			req.Headers, req.Timeout = fc.Headers, time.Duration(fc.Timeout)
			if req.MaxBytes, err = feedsync.ParseSize(fc.MaxSize); err != nil {
				return usagef("feeds %s max_size: %v", name, err)
			}
		}
	} else if flags.Changed("config") {
		return usagef("-c names a config file; add --feed NAME to take a feed's settings from it")
	}
	if src == "" {
		return flagError{fmt.Errorf("transform needs a PATH or URL to read (or --feed NAME with -c)")}
	}
	pol, err := tree.ParsePolicy(policy)
	if err != nil {
		return usagef("--policy %v", err)
	}
	to, err := feedsync.ParseOutputFormat(str("to"))
	if err != nil {
		return usagef("--to %v", err)
	}
	inFormat, err := feed.ParseFormat(format)
	if err != nil {
		return usagef("--format %v", err)
	}
	if err := tree.CheckFields(fields); err != nil {
		return usagef("%v", err)
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	req.URL = src
	resp, err := feed.Fetch(ctx, req)
	if err != nil {
		return err
	}
	body := resp.Body
	defer body.Close()

	reading := newProgress(cmd, localSize(src), "reading feed", unitBytes)
	defer reading.Done()
	var writing progress = noProgress{}
	defer func() { writing.Done() }()
	var problems []feed.Problem
	opts := feedsync.TransformOptions{
		Policy: pol, ProductID: productID, Fields: fields, Format: inFormat, To: to, Source: src,
		OnProblem: func(p feed.Problem) { problems = append(problems, p) },
		OnRead: func(items int) {
			reading.Done()
			total := int64(-1)
			if pol == tree.PolicyVariant {
				total = int64(items)
			}
			writing = newProgress(cmd, total, "writing products", unitProducts)
		},
		OnProduct: func() { writing.Add(1) },
	}
	in := reading.Reader(body)

	out := str("output")
	var sum feedsync.TransformSummary
	if out == "" || out == "-" {
		sum, err = feedsync.Transform(ctx, in, cmd.OutOrStdout(), opts)
	} else {
		err = feedsync.WriteFileAtomic(out, 0o644, func(w io.Writer) error {
			var terr error
			sum, terr = feedsync.Transform(ctx, in, w, opts)
			return terr
		})
	}
	writing.Done()
	reading.Done()
	if ctx.Err() != nil {
		return failedError{"interrupted"}
	}
	if err != nil {
		return err
	}
	return reportTransform(cmd.ErrOrStderr(), sum, problems, out, jsonOut, quiet)
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

// maxProblemsShown caps the skipped items listed on standard error.
const maxProblemsShown = 20

func reportTransform(w io.Writer, sum feedsync.TransformSummary, problems []feed.Problem, out string, jsonOut, quiet bool) error {
	if jsonOut {
		return json.NewEncoder(w).Encode(struct {
			feedsync.TransformSummary
			Output   string   `json:"output,omitempty"`
			Problems []string `json:"problems,omitempty"`
		}{sum, out, problemStrings(problems)})
	}
	if quiet {
		return nil
	}
	for i, p := range problems {
		if i == maxProblemsShown {
			fmt.Fprintf(w, "… and %d more\n", len(problems)-maxProblemsShown)
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
		out[i] = p.String()
	}
	return out
}
