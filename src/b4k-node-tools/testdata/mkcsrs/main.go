// Command mkcsrs writes the attacker's fixtures of tests/check-csr-approve.sh
// into DIR: real PKCS#10 requests made with Go's crypto/x509, in a
// CertificateSigningRequestList as `kubectl get csr -o json` prints it
// (csrs.json), the NodeList they are judged against (nodes.json), and the
// names of the requests that must be approved, one per line (expected).
//
//	go run ./testdata/mkcsrs DIR
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"log"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

type req struct {
	name     string
	user     string   // requester; system:node:<n> unless set
	node     string   // the node the requester is
	groups   []string // default system:nodes, system:authenticated
	usages   []string // default digital signature, key encipherment, server auth
	signer   string   // default kubernetes.io/kubelet-serving
	cn, o    string   // subject; default system:node:<node>, system:nodes
	dns      []string
	ips      []string
	uris     []string
	emails   []string
	raw      string // the request as is, instead of a real one
	san      []byte // a subjectAltName extension as is
	approved bool   // already has an Approved condition
	good     bool   // must be approved
}

// The cluster: service network 10.96.0.0/12, pod network 10.244.0.0/16.
// b4k-w1 is the attacker: it wrote the kubernetes Service's IP and the
// control plane's address into its own status.addresses.
var nodes = map[string][][2]string{
	"b4k-cp": {{"InternalIP", "192.168.50.10"}, {"Hostname", "b4k-cp"}},
	"b4k-w1": {{"InternalIP", "192.168.50.11"}, {"InternalIP", "10.96.0.1"},
		{"ExternalIP", "192.168.50.10"}, {"Hostname", "b4k-w1"}},
	"b4k-w2": {{"InternalIP", "192.168.50.12"}, {"Hostname", "b4k-w2"}},
	"w3.lan": {{"InternalIP", "192.168.50.13"}},
	"w3xlan": {{"InternalIP", "192.168.50.14"}},
}

var reqs = []req{
	// A request that is not PKCS#10 at all, listed before good ones: it must
	// not stop the run.
	{name: "csr-garbage", node: "b4k-w2", raw: "-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgcmVxdWVzdAo=\n-----END CERTIFICATE REQUEST-----\n"},
	{name: "csr-good-w2", node: "b4k-w2", dns: []string{"b4k-w2"}, ips: []string{"192.168.50.12"}, good: true},
	{name: "csr-good-w2-no-key-encipherment", node: "b4k-w2", dns: []string{"b4k-w2"},
		usages: []string{"digital signature", "server auth"}, good: true},
	{name: "csr-good-w3-dotted-name", node: "w3.lan", dns: []string{"w3.lan"}, ips: []string{"192.168.50.13"}, good: true},
	// A DNS name that carries a newline: text renderings split it into
	// names that each look allowed, and hide the ones after it.
	{name: "csr-newline-san", node: "b4k-w1", dns: []string{"b4k-w1\nIP Address:10.96.0.1", "kubernetes.default.svc"},
		ips: []string{"10.96.0.1", "192.168.50.10"}},
	{name: "csr-newline-only", node: "b4k-w1", dns: []string{"b4k-w1\n", "kubernetes.default.svc"}},
	// Addresses the attacker wrote into its own node status.
	{name: "csr-service-ip", node: "b4k-w1", dns: []string{"b4k-w1"}, ips: []string{"192.168.50.11", "10.96.0.1"}},
	{name: "csr-other-nodes-ip", node: "b4k-w1", dns: []string{"b4k-w1"}, ips: []string{"192.168.50.11", "192.168.50.10"}},
	{name: "csr-loopback", node: "b4k-w2", dns: []string{"b4k-w2"}, ips: []string{"127.0.0.1"}},
	{name: "csr-v4-mapped", node: "b4k-w2", san: san(gn(2, false, []byte("b4k-w2")), gn(7, false, net.ParseIP("192.168.50.12").To16()))},
	{name: "csr-client-auth", node: "b4k-w2", dns: []string{"b4k-w2"},
		usages: []string{"digital signature", "key encipherment", "server auth", "client auth"}},
	{name: "csr-no-server-auth", node: "b4k-w2", dns: []string{"b4k-w2"}, usages: []string{"digital signature", "key encipherment"}},
	{name: "csr-uri-san", node: "b4k-w2", dns: []string{"b4k-w2"}, uris: []string{"spiffe://cluster.local/ns/kube-system/sa/admin"}},
	{name: "csr-email-san", node: "b4k-w2", dns: []string{"b4k-w2"}, emails: []string{"root@b4k-w2"}},
	{name: "csr-othername-san", node: "b4k-w2", san: san(gn(2, false, []byte("b4k-w2")), upn("admin@cluster"))},
	{name: "csr-other-dns", node: "b4k-w2", dns: []string{"b4k-w2", "b4k-cp"}},
	{name: "csr-subject-other-node", node: "b4k-w2", cn: "system:node:b4k-cp", dns: []string{"b4k-w2"}},
	{name: "csr-subject-regex", node: "w3.lan", cn: "system:node:w3xlan", dns: []string{"w3.lan"}},
	{name: "csr-subject-extra-o", node: "b4k-w2", o: "system:masters", dns: []string{"b4k-w2"}},
	{name: "csr-wrong-group", node: "b4k-w2", groups: []string{"system:authenticated"}, dns: []string{"b4k-w2"}},
	{name: "csr-not-a-node", node: "b4k-w2", user: "system:serviceaccount:default:b4k-w2", dns: []string{"b4k-w2"}},
	{name: "csr-no-such-node", node: "ghost", dns: []string{"ghost"}},
	{name: "csr-no-names", node: "b4k-w2"},
	// Not this program's to approve again, nor another signer's.
	{name: "csr-approved-already", node: "b4k-w2", dns: []string{"b4k-w2"}, approved: true},
	{name: "csr-client-signer", node: "b4k-w2", signer: "kubernetes.io/kube-apiserver-client-kubelet",
		usages: []string{"digital signature", "client auth"}},
}

// gn: one GeneralName, [tag] IMPLICIT, of the given contents.
func gn(tag int, compound bool, b []byte) []byte {
	out, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, IsCompound: compound, Bytes: b})
	check(err)
	return out
}

// san: a subjectAltName extension's value made of general names as given,
// for what crypto/x509 would not write: an otherName (Microsoft UPN, a type
// crypto/x509 skips when parsing), an IPv4 address in 16 bytes.
func san(names ...[]byte) []byte {
	seq, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true,
		Bytes: bytes.Join(names, nil)})
	check(err)
	return seq
}

func upn(s string) []byte {
	oid, err := asn1.Marshal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3})
	check(err)
	v, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true,
		Bytes: must(asn1.Marshal(asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte(s)}))})
	check(err)
	return gn(0, true, append(oid, v...))
}

func must(b []byte, err error) []byte {
	check(err)
	return b
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (r req) pem(key *ecdsa.PrivateKey) string {
	if r.raw != "" {
		return r.raw
	}
	subj := pkix.Name{CommonName: or(r.cn, "system:node:"+r.node), Organization: []string{"system:nodes"}}
	if r.o != "" {
		subj.Organization = append(subj.Organization, r.o)
	}
	t := &x509.CertificateRequest{Subject: subj, DNSNames: r.dns, EmailAddresses: r.emails}
	for _, s := range r.ips {
		t.IPAddresses = append(t.IPAddresses, net.ParseIP(s))
	}
	for _, s := range r.uris {
		u, err := url.Parse(s)
		check(err)
		t.URIs = append(t.URIs, u)
	}
	if r.san != nil {
		t.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: r.san}}
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, t, key)
	check(err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: mkcsrs DIR")
	}
	dir := os.Args[1]
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	var items []any
	var expected []string
	for _, r := range reqs {
		var conds []any
		if r.approved {
			conds = append(conds, map[string]string{"type": "Approved", "status": "True"})
		}
		items = append(items, map[string]any{
			"apiVersion": "certificates.k8s.io/v1",
			"kind":       "CertificateSigningRequest",
			"metadata":   map[string]string{"name": r.name},
			"spec": map[string]any{
				"request":    []byte(r.pem(key)),
				"signerName": or(r.signer, "kubernetes.io/kubelet-serving"),
				"username":   or(r.user, "system:node:"+r.node),
				"groups":     or2(r.groups, []string{"system:nodes", "system:authenticated"}),
				"usages":     or2(r.usages, []string{"digital signature", "key encipherment", "server auth"}),
			},
			"status": map[string]any{"conditions": conds},
		})
		if r.good {
			expected = append(expected, r.name)
		}
	}
	write(filepath.Join(dir, "csrs.json"), map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	var ns []any
	for name, addrs := range nodes {
		var as []any
		for _, a := range addrs {
			as = append(as, map[string]string{"type": a[0], "address": a[1]})
		}
		ns = append(ns, map[string]any{"apiVersion": "v1", "kind": "Node",
			"metadata": map[string]string{"name": name}, "status": map[string]any{"addresses": as}})
	}
	write(filepath.Join(dir, "nodes.json"), map[string]any{"apiVersion": "v1", "kind": "List", "items": ns})
	check(os.WriteFile(filepath.Join(dir, "expected"), []byte(strings.Join(expected, "\n")+"\n"), 0o644))
}

func or2(s, d []string) []string {
	if s == nil {
		return d
	}
	return s
}

func write(path string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	check(err)
	check(os.WriteFile(path, b, 0o644))
}
