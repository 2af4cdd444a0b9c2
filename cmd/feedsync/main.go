package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/engine"
	"github.com/feedsync/feedsync/store"
)

// Exit codes: a public contract.
const (
	exitOK     = 0
	exitFailed = 1 // the work failed: a feed did not sync, lint found errors
	exitUsage  = 2 // usage or configuration error; a state file in use or damaged
	// exitInterrupted: Ctrl-C or SIGTERM stopped the command (128 + SIGINT,
	// as shells report it).
	exitInterrupted = 130
)

// interrupted marks a command stopped by Ctrl-C or SIGTERM (exit 130).
type interrupted struct{ err error }

func (e interrupted) Error() string { return e.err.Error() }
func (e interrupted) Unwrap() error { return e.err }

// usageError marks an error that is the caller's to fix (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// failedError sums up work that failed and was reported in detail already.
type failedError struct{ msg string }

func (e failedError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	stopProfiles()
	if err == nil {
		return exitOK
	}
	if strings.HasPrefix(err.Error(), "unknown command") {
		err = flagError{err}
	}
	code := exitCode(err)
	fmt.Fprintf(os.Stderr, "feedsync: %v\n", err)
	if code == exitUsage && isFlagError(err) {
		fmt.Fprintln(os.Stderr, "Run 'feedsync --help' for usage.")
	}
	return code
}

func exitCode(err error) int {
	var ue usageError
	var ce *config.Error
	var in interrupted
	switch {
	case errors.As(err, &in):
		return exitInterrupted
	case errors.As(err, &ue), errors.As(err, &ce), errors.Is(err, store.ErrLocked), errors.Is(err, store.ErrDamaged), isFlagError(err):
		return exitUsage
	}
	return exitFailed
}

// flagError wraps cobra's flag and argument parsing errors.
type flagError struct{ error }

func isFlagError(err error) bool {
	var fe flagError
	return errors.As(err, &fe)
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "feedsync",
		Short: "Keep a product catalog equal to a shop's product feed, sending only what changed",
		Long: `feedsync reads Google Merchant Center style product feeds (RSS 2.0 / Atom with
the g: namespace, CSV, TSV), shapes them into parent products or variants, and
pushes only the products that changed to a catalog (User.com, or a JSONL file).

Exit codes: 0 success; 1 the work failed (a feed failed to sync, lint found
errors); 2 usage or configuration error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return flagError{err} })
	root.SetVersionTemplate("{{.Version}}\n")
	addProfileFlags(root)
	root.AddCommand(
		newSyncCmd(engine.ModeSync),
		newSyncCmd(engine.ModeResync),
		newSyncCmd(engine.ModePlan),
		newRunCmd(),
		newLintCmd(),
		newTransformCmd(),
		newStateCmd(),
		newVersionCmd(),
		newUserIDCmd(),
		newIDsCmd(),
	)
	return root
}

// args checkers that report as usage errors.
func wrapArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return flagError{err}
		}
		return nil
	}
}
