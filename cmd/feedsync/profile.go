package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// addProfileFlags adds the hidden --cpuprofile and --memprofile flags that
// `make profile` uses; they work with every command.
func addProfileFlags(root *cobra.Command) {
	var cpu, mem string
	var cpuFile *os.File
	root.PersistentFlags().StringVar(&cpu, "cpuprofile", "", "write a CPU profile to this file")
	root.PersistentFlags().StringVar(&mem, "memprofile", "", "write a heap profile to this file at exit")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	_ = root.PersistentFlags().MarkHidden("memprofile")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if cpu == "" {
			return nil
		}
		f, err := os.Create(cpu)
		if err != nil {
			return usagef("--cpuprofile: %v", err)
		}
		cpuFile = f
		return pprof.StartCPUProfile(f)
	}
	root.PersistentPostRunE = func(*cobra.Command, []string) error { return nil }
	stopProfiles = func() {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			cpuFile.Close()
		}
		if mem != "" {
			f, err := os.Create(mem)
			if err != nil {
				fmt.Fprintln(os.Stderr, "feedsync: --memprofile:", err)
				return
			}
			defer f.Close()
			runtime.GC()
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
		}
	}
}

// stopProfiles ends the profiles started by the flags; run calls it whatever
// the command's outcome.
var stopProfiles = func() {}
