package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
)

// maxInput caps what is read from a file or a pipe: a node list or a client
// list is kilobytes; anything near this is not one.
const maxInput = 16 << 20

// parseHostAddr parses one IP address of a host, strictly: IPv4 only as a
// dotted quad of decimal 0-255 (no leading zeros, no fifth octet), IPv6 by
// net/netip; no zone, no IPv4-mapped IPv6 (which some comparisons equate with
// the IPv4 address and others do not), and none of the addresses that never
// name one host: unspecified, loopback, multicast, link-local.
func parseHostAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, errors.New("not an IP address")
	}
	switch {
	case a.Zone() != "":
		return a, errors.New("an IPv6 address with a zone")
	case a.Is4In6():
		return a, errors.New("an IPv4-mapped IPv6 address")
	case a.IsUnspecified():
		return a, errors.New("the unspecified address")
	case a.IsLoopback():
		return a, errors.New("a loopback address")
	case a.IsMulticast():
		return a, errors.New("a multicast address")
	case a.IsLinkLocalUnicast():
		return a, errors.New("a link-local address")
	case a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return a, errors.New("the broadcast address")
	}
	return a, nil
}

// readInput reads FILE (args[0]) or stdin, refusing what is not a regular file
// and anything over maxInput.
func readInput(args []string, stdin io.Reader) (string, []byte, error) {
	name := "standard input"
	r := stdin
	if len(args) > 0 {
		name = args[0]
		fi, err := os.Stat(name)
		if err != nil {
			return name, nil, err
		}
		if !fi.Mode().IsRegular() {
			return name, nil, errors.New("not a regular file")
		}
		f, err := os.Open(name)
		if err != nil {
			return name, nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err == nil && len(b) > maxInput {
		err = fmt.Errorf("larger than %d bytes", maxInput)
	}
	return name, b, err
}

type nodeList struct {
	Items []node `json:"items"`
}

type node struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Status struct {
		Addresses []struct {
			Type    string `json:"type"`
			Address string `json:"address"`
		} `json:"addresses"`
	} `json:"status"`
}

// addressesMain prints the good addresses of a list (or of a NodeList's
// InternalIPs) and names the bad ones; bad lines never fail the run, so one
// of them cannot keep the good ones out.
func addressesMain(args []string, stdin io.Reader, stdout, stderr io.Writer, nodes bool) int {
	if len(args) > 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	name, b, err := readInput(args, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "b4k-node: %s: %v\n", name, err)
		return 1
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	emit := func(where, s string) {
		a, err := parseHostAddr(s)
		if err != nil {
			fmt.Fprintf(stderr, "b4k-node: %s: %q is %v: skipped\n", where, s, err)
			return
		}
		fmt.Fprintln(out, a)
	}
	if !nodes {
		for i, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			emit(fmt.Sprintf("%s:%d", name, i+1), line)
		}
		return 0
	}
	var l nodeList
	if err := json.Unmarshal(b, &l); err != nil {
		fmt.Fprintf(stderr, "b4k-node: %s: not a node list: %v\n", name, err)
		return 1
	}
	for _, n := range l.Items {
		for _, a := range n.Status.Addresses {
			if a.Type == "InternalIP" {
				emit(fmt.Sprintf("node %q", n.Metadata.Name), a.Address)
			}
		}
	}
	return 0
}
