package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/feedsync/feedsync/feed"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: feedcount FILE...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		if err := count(path); err != nil {
			fmt.Fprintln(os.Stderr, "feedcount:", err)
			os.Exit(1)
		}
	}
}

func count(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	start, cpu0 := time.Now(), cpuTime()
	r, err := feed.NewReader(f, path, feed.FormatAuto)
	if err != nil {
		return err
	}
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		n++
	}
	secs := time.Since(start).Seconds()
	cpu := cpuTime() - cpu0
	mb := float64(st.Size()) / 1e6
	fmt.Printf("%-5s %9.1f MB %7.2f s %8.1f MB/s %9.0f items/s  peak RSS %4d MB  %d items  (%.0f MB per CPU-second)  %s\n",
		r.Format(), mb, secs, mb/secs, float64(n)/secs, peakRSS()>>20, n, mb/cpu, path)
	return nil
}

// cpuTime returns the user and system CPU seconds the process used so far:
// on a busy machine it shows the parser's own cost when wall time does not.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// peakRSS returns VmHWM from /proc/self/status in bytes, or 0 where there is none.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var kb int64
		if _, err := fmt.Sscanf(sc.Text(), "VmHWM: %d kB", &kb); err == nil {
			return kb << 10
		}
	}
	return 0
}
