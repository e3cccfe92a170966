package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseHostAddr(t *testing.T) {
	for _, tc := range []struct {
		in   string
		good bool
	}{
		{"192.168.1.2", true}, {"2001:db8::1", true}, {"fd00::1", true},
		{"1.2.3.4.5", false}, {"01.2.3.4", false}, {"1.2.3", false}, {"256.1.1.1", false},
		{"abc", false}, {"dead:beef", false}, {"deadbeef", false}, {"", false},
		{"10.0.0.1/8", false}, {" 10.0.0.1", false}, {"10.0.0.1\n", false},
		{"fe80::1%eth0", false}, {"fe80::1", false}, {"169.254.1.1", false},
		{"127.0.0.1", false}, {"::1", false}, {"0.0.0.0", false}, {"::", false},
		{"224.0.0.1", false}, {"ff02::1", false}, {"255.255.255.255", false},
		{"::ffff:10.0.0.1", false},
	} {
		_, err := parseHostAddr(tc.in)
		if (err == nil) != tc.good {
			t.Errorf("parseHostAddr(%q): err = %v, want good = %v", tc.in, err, tc.good)
		}
	}
}

func TestAddresses(t *testing.T) {
	in := "10.0.0.1\n1.2.3.4.5\n\n# comment\nbeef\n2001:db8::1\n10.0.0.2\n"
	var out, errb bytes.Buffer
	if rc := run([]string{"addresses"}, strings.NewReader(in), &out, &errb); rc != 0 {
		t.Fatalf("rc = %d, stderr %s", rc, errb.String())
	}
	if got, want := out.String(), "10.0.0.1\n2001:db8::1\n10.0.0.2\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	for _, bad := range []string{`:2: "1.2.3.4.5"`, `:5: "beef"`} {
		if !strings.Contains(errb.String(), bad) {
			t.Errorf("stderr %q does not name %s", errb.String(), bad)
		}
	}
}

func TestNodeAddresses(t *testing.T) {
	in := `{"items":[{"metadata":{"name":"a"},"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"},
	{"type":"Hostname","address":"a"}]}},{"metadata":{"name":"b"},"status":{"addresses":[
	{"type":"InternalIP","address":"10.0.0.2\n10.9.9.9"},{"type":"InternalIP","address":"10.0.0.3"}]}}]}`
	var out, errb bytes.Buffer
	if rc := run([]string{"node-addresses"}, strings.NewReader(in), &out, &errb); rc != 0 {
		t.Fatalf("rc = %d, stderr %s", rc, errb.String())
	}
	if got, want := out.String(), "10.0.0.1\n10.0.0.3\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if !strings.Contains(errb.String(), `node "b"`) {
		t.Errorf("stderr %q does not name node b", errb.String())
	}
	if rc := run([]string{"node-addresses"}, strings.NewReader("{"), &out, &errb); rc != 1 {
		t.Errorf("a broken node list: rc = %d, want 1", rc)
	}
}

func TestFlagCIDRs(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "kube-apiserver.yaml")
	m := "spec:\n  containers:\n  - command:\n    - kube-apiserver\n    - --service-cluster-ip-range=10.96.0.0/12,fd00:10:96::/112\n"
	if err := os.WriteFile(p, []byte(m), 0o600); err != nil {
		t.Fatal(err)
	}
	ps, err := flagCIDRs(p, "service-cluster-ip-range")
	if err != nil || len(ps) != 2 || ps[0].String() != "10.96.0.0/12" || ps[1].String() != "fd00:10:96::/112" {
		t.Errorf("flagCIDRs = %v, %v", ps, err)
	}
	if _, err := flagCIDRs(p, "cluster-cidr"); err == nil {
		t.Error("a missing flag gave no error")
	}
	if _, err := flagCIDRs(dir, "cluster-cidr"); err == nil {
		t.Error("a directory gave no error")
	}
}

func TestCheckUsages(t *testing.T) {
	for _, tc := range []struct {
		u    []string
		good bool
	}{
		{[]string{"digital signature", "key encipherment", "server auth"}, true},
		{[]string{"server auth", "digital signature"}, true},
		{[]string{"digital signature", "server auth", "client auth"}, false},
		{[]string{"key encipherment", "server auth"}, false},
		{[]string{"digital signature"}, false},
		{nil, false},
	} {
		if err := checkUsages(tc.u); (err == nil) != tc.good {
			t.Errorf("checkUsages(%q) = %v, want good = %v", tc.u, err, tc.good)
		}
	}
}
