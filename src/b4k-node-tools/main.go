// Command b4k-node makes the node's decisions that must not be text
// processing: which kubelet serving-certificate requests to approve
// (csr-approve), and which strings are IP addresses (addresses,
// node-addresses, for /usr/libexec/b4k/nfs-clients). Only Go's standard
// library, so that Buildroot's golang-package cross-compiles it for every
// board. The API server is reached through kubectl, as the rest of the node's
// scripts do.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage: b4k-node COMMAND [options]
  csr-approve [--kubeconfig F] [--apiserver-manifest F] [--controller-manager-manifest F]
              [--service-cidr CIDR[,CIDR]] [--dry-run]
      approve the pending kubernetes.io/kubelet-serving requests that a node made
      for its own name and addresses; log every other one with the reason
  addresses [FILE]
      print the IP addresses among FILE's lines (standard input without FILE),
      one per line in canonical form; name every other line on standard error
  node-addresses [FILE]
      the same for the InternalIP addresses of a NodeList in JSON
      (kubectl get nodes -o json)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "csr-approve":
		return csrApproveMain(args[1:], stdout, stderr)
	case "addresses":
		return addressesMain(args[1:], stdin, stdout, stderr, false)
	case "node-addresses":
		return addressesMain(args[1:], stdin, stdout, stderr, true)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "b4k-node: unknown command %q\n%s", args[0], usage)
	return 2
}
