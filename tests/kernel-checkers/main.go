// kubeadm's kernel-config validator (k8s.io/system-validators) on .config
// files: one line per option, "CONFIG_NAME good|bad|warn message", then a
// summary line per file. Built by tests/check-kernel-checkers.sh with
// validators_b4k.go added to the validator's package.
//
//	kernel-validator FILE...
package main

import (
	"fmt"
	"os"

	system "k8s.io/system-validators/validators"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kernel-validator FILE...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		results, err := system.B4KValidateKernelConfig(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			os.Exit(1)
		}
		count := map[string]int{}
		for _, r := range results {
			fmt.Printf("%s %s %s\n", r.Name, r.Result, r.Message)
			count[r.Result]++
		}
		fmt.Printf("%s: %d checked, %d good, %d bad (required missing), %d warn (optional missing)\n",
			path, len(results), count["good"], count["bad"], count["warn"])
	}
}
