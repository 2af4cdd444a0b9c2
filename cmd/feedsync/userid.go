package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/orders"
)

func newUserIDCmd() *cobra.Command {
	var rule, ordersName string
	c := &cobra.Command{
		Use:   "userid [-c FILE [--orders NAME]] [--rule sha256_email|email] [EMAIL...]",
		Short: "Print the User ID of each e-mail, by the configured rule, to check the frontend and backend agree",
		Long: `userid prints, one per line and in order, the User ID that feedsync sends for
each e-mail given as an argument, or read one per line from standard input. The
rule is --rule, else the user_id of the orders export --orders names (or of the
only one) in the configuration, else sha256_email: the hex SHA-256 of the
trimmed, lower-cased e-mail. Run the same e-mails through the storefront's
tracking code and compare.`,
		Example: `  feedsync userid ' Jane.Doe@Example.com'
  feedsync userid -c feedsync.yaml --orders shop-orders < emails.txt
  feedsync userid --rule email Jane.Doe@Example.com`,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := userIDRule(cmd, rule, ordersName)
			if err != nil {
				return err
			}
			out := bufio.NewWriter(cmd.OutOrStdout())
			defer out.Flush()
			emit := func(email string) error {
				id, err := orders.UserID(r, email)
				if err != nil {
					return usagef("%s: %v", orders.MaskEmail(email), err)
				}
				_, err = fmt.Fprintln(out, id)
				return err
			}
			if len(args) > 0 {
				for _, e := range args {
					if err := emit(e); err != nil {
						return err
					}
				}
				return nil
			}
			return eachLine(cmd.InOrStdin(), emit)
		},
	}
	addConfigFlag(c)
	c.Flags().StringVar(&rule, "rule", "", "sha256_email or email (default: the configuration's, else sha256_email)")
	c.Flags().StringVar(&ordersName, "orders", "", "the orders export whose user_id rule applies (with -c)")
	completeFlag(c, "rule", completeValues(string(orders.UserSHA256Email), string(orders.UserEmail)))
	return c
}

// userIDRule is --rule, else the configured export's, else sha256_email.
func userIDRule(cmd *cobra.Command, rule, ordersName string) (orders.UserIDRule, error) {
	switch orders.UserIDRule(rule) {
	case orders.UserSHA256Email, orders.UserEmail:
		return orders.UserIDRule(rule), nil
	case "":
	default:
		return "", usagef("--rule %q: want sha256_email or email (the column rule takes the shop's own customer id, not an e-mail)", rule)
	}
	path := configPath(cmd)
	if _, err := os.Stat(path); err != nil && !cmd.Flags().Changed("config") && ordersName == "" {
		return orders.UserSHA256Email, nil // no configuration: the recommended rule
	}
	cfg, err := config.Load(path)
	if err != nil {
		return "", err
	}
	var oc *config.Orders
	switch {
	case ordersName != "":
		var ok bool
		if oc, ok = cfg.Order(ordersName); !ok {
			return "", usagef("no orders export named %q in %s", ordersName, cfg.Path)
		}
	case len(cfg.Orders) == 1:
		oc = &cfg.Orders[0]
	case len(cfg.Orders) > 1:
		return "", usagef("%s has %d orders exports: name one with --orders", cfg.Path, len(cfg.Orders))
	default:
		return orders.UserSHA256Email, nil
	}
	if oc.UserID == orders.UserColumn {
		return "", usagef("orders export %s takes the User ID from its customer_id column: there is no e-mail rule to print", oc.Name)
	}
	return oc.UserID, nil
}

// eachLine calls fn with each non-blank line of r.
func eachLine(r io.Reader, fn func(string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			if err := fn(line); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}
