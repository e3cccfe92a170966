package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"strings"
	"time"
)

// kubectl runs kubectl with the admin kubeconfig and returns its standard
// output; kubectl (not a Go client library) keeps the program to the
// standard library.
type kubectl struct {
	kubeconfig string
}

func (k kubectl) run(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args = append([]string{"--kubeconfig", k.kubeconfig, "--request-timeout=20s"}, args...)
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("kubectl %s: %v: %s", strings.Join(args[3:], " "), err, strings.TrimSpace(errb.String()))
	}
	if out.Len() > maxInput {
		return nil, fmt.Errorf("kubectl %s: more than %d bytes", strings.Join(args[3:], " "), maxInput)
	}
	return out.Bytes(), nil
}

// flagCIDRs reads the value of --FLAG=a,b from a static pod manifest that
// kubeadm wrote on this node (root's files, which no node can change through
// the API: a mirror pod in the API could be a node's own invention).
func flagCIDRs(path, flagName string) ([]netip.Prefix, error) {
	_, b, err := readInput([]string{path}, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.Trim(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "-")), `"'`)
		if v, ok := strings.CutPrefix(line, "--"+flagName+"="); ok {
			return parseCIDRs(v)
		}
	}
	return nil, fmt.Errorf("%s: no --%s", path, flagName)
}

func parseCIDRs(v string) ([]netip.Prefix, error) {
	var ps []netip.Prefix
	for _, s := range strings.Split(v, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR", s)
		}
		ps = append(ps, p.Masked())
	}
	return ps, nil
}

func csrApproveMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("csr-approve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kubeconfig := fs.String("kubeconfig", "/etc/kubernetes/admin.conf", "kubeconfig of the cluster's admin")
	apiserver := fs.String("apiserver-manifest", "/etc/kubernetes/manifests/kube-apiserver.yaml",
		"kube-apiserver's static pod manifest, for --service-cluster-ip-range")
	ctrlmgr := fs.String("controller-manager-manifest", "/etc/kubernetes/manifests/kube-controller-manager.yaml",
		"kube-controller-manager's static pod manifest, for --cluster-cidr")
	serviceCIDR := fs.String("service-cidr", "", "the Service network(s), instead of reading the manifest")
	dryRun := fs.Bool("dry-run", false, "decide and log, approve nothing")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stdout, "csr-approve: "+format+"\n", a...) }

	var services []netip.Prefix
	var err error
	if *serviceCIDR != "" {
		services, err = parseCIDRs(*serviceCIDR)
	} else {
		services, err = flagCIDRs(*apiserver, "service-cluster-ip-range")
	}
	if err != nil {
		logf("the Service network is unknown (%v): no IP address will be approved", err)
	}
	pods, err := flagCIDRs(*ctrlmgr, "cluster-cidr")
	if err != nil {
		logf("the pod network is unknown (%v)", err)
	}

	k := kubectl{kubeconfig: *kubeconfig}
	csrJSON, err := k.run("get", "csr", "-o", "json")
	if err != nil {
		fmt.Fprintf(stderr, "csr-approve: API server not reachable: %v\n", err)
		return 0 // the timer tries again
	}
	nodesJSON, err := k.run("get", "nodes", "-o", "json")
	if err != nil {
		fmt.Fprintf(stderr, "csr-approve: API server not reachable: %v\n", err)
		return 0
	}
	csrs, bad, err := decodeCSRs(csrJSON)
	if err != nil {
		fmt.Fprintf(stderr, "csr-approve: %v\n", err)
		return 1
	}
	var nodes nodeList
	if err := json.Unmarshal(nodesJSON, &nodes); err != nil {
		fmt.Fprintf(stderr, "csr-approve: not a NodeList: %v\n", err)
		return 1
	}
	for _, e := range bad {
		logf("%v: left pending", e)
	}
	c := newCluster(nodes.Items, services, pods)
	rc := 0
	for _, o := range csrs {
		if o.Spec.SignerName != servingSigner || !o.pending() {
			continue // another signer's, or decided already
		}
		name := o.Metadata.Name
		if err := c.decide(o); err != nil {
			logf("%s: %v: left pending", name, err)
			continue
		}
		if *dryRun {
			logf("%s: would approve (node %s)", name, strings.TrimPrefix(o.Spec.Username, nodeUserPfx))
			continue
		}
		if _, err := k.run("certificate", "approve", name); err != nil {
			logf("%s: approving failed: %v", name, err)
			rc = 1
			continue
		}
		logf("%s: approved for node %s", name, strings.TrimPrefix(o.Spec.Username, nodeUserPfx))
	}
	return rc
}
