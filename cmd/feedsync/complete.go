package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/feedsync/feedsync/config"
)

// Shell completion (feedsync completion bash|zsh|fish|powershell): feed
// names from the configuration -c names (or $FEEDSYNC_CONFIG, or
// ./feedsync.yaml), and the values of the flags that take a fixed set.

// completeFeeds offers the configured feed names not already given. A
// configuration that does not load offers nothing.
func completeFeeds(max int) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if max >= 0 && len(args) >= max {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cfg, err := config.Load(configPath(cmd))
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, f := range cfg.Feeds {
			if strings.HasPrefix(f.Name, toComplete) && !contains(args, f.Name) {
				out = append(out, cobra.CompletionWithDesc(f.Name, f.URL))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeValues offers a flag's fixed values.
func completeValues(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

// completeFlag registers fn for flag name of c; a flag c lacks is a
// programming error.
func completeFlag(c *cobra.Command, name string, fn cobra.CompletionFunc) {
	if err := c.RegisterFlagCompletionFunc(name, fn); err != nil {
		panic(err)
	}
}

// completeConfig completes -c with YAML files.
func completeConfig(c *cobra.Command) {
	if err := c.MarkFlagFilename("config", "yaml", "yml"); err != nil {
		panic(err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
