package main

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

const (
	servingSigner = "kubernetes.io/kubelet-serving"
	nodeUserPfx   = "system:node:"
	nodesGroup    = "system:nodes"
)

var (
	oidCommonName   = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidOrganization = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidSubjectAlt   = asn1.ObjectIdentifier{2, 5, 29, 17}
)

// csrObject is what is read of a CertificateSigningRequest (certificates.k8s.io/v1).
type csrObject struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Request    []byte   `json:"request"` // base64 in JSON: the PEM bytes
		SignerName string   `json:"signerName"`
		Username   string   `json:"username"`
		Groups     []string `json:"groups"`
		Usages     []string `json:"usages"`
	} `json:"spec"`
	Status struct {
		Conditions []struct {
			Type string `json:"type"`
		} `json:"conditions"`
	} `json:"status"`
}

// cluster is what a request is judged against: every node's addresses, and
// the networks no node address may lie in.
type cluster struct {
	// names: the nodes that exist.
	names map[string]bool
	// addrs: node name -> its IP addresses of type InternalIP or ExternalIP.
	addrs map[string][]netip.Addr
	// holders: an IP address -> the nodes that list it, of any address type.
	holders map[netip.Addr][]string
	// services: the Service CIDRs (kube-apiserver --service-cluster-ip-range).
	// Empty: unknown, and then no IP address is approved.
	services []netip.Prefix
	// pods: the pod CIDRs (kube-controller-manager --cluster-cidr), if known.
	pods []netip.Prefix
}

func newCluster(nodes []node, services, pods []netip.Prefix) *cluster {
	c := &cluster{names: map[string]bool{}, addrs: map[string][]netip.Addr{}, holders: map[netip.Addr][]string{}, services: services, pods: pods}
	for _, n := range nodes {
		c.names[n.Metadata.Name] = true
		for _, a := range n.Status.Addresses {
			ip, err := netip.ParseAddr(a.Address)
			if err != nil {
				continue // a name (Hostname, InternalDNS): no IP SAN can match it
			}
			ip = ip.Unmap()
			if !slices.Contains(c.holders[ip], n.Metadata.Name) {
				c.holders[ip] = append(c.holders[ip], n.Metadata.Name)
			}
			if a.Type == "InternalIP" || a.Type == "ExternalIP" {
				c.addrs[n.Metadata.Name] = append(c.addrs[n.Metadata.Name], ip)
			}
		}
	}
	return c
}

// pending: no Approved, Denied or Failed condition yet.
func (o *csrObject) pending() bool {
	for _, c := range o.Status.Conditions {
		switch c.Type {
		case "Approved", "Denied", "Failed":
			return false
		}
	}
	return true
}

// decide returns nil when the request is a kubelet's serving certificate for
// its own node, its own name and its own addresses, and otherwise the first
// reason it is not. The node name is taken from the requester (the API
// server sets spec.username from the credentials used), never from the
// request, and is only ever compared as a string.
func (c *cluster) decide(o *csrObject) error {
	if o.Spec.SignerName != servingSigner {
		return fmt.Errorf("signer %q is not %s", o.Spec.SignerName, servingSigner)
	}
	node, ok := strings.CutPrefix(o.Spec.Username, nodeUserPfx)
	if !ok || node == "" {
		return fmt.Errorf("requester %q is not a node", o.Spec.Username)
	}
	if !slices.Contains(o.Spec.Groups, nodesGroup) {
		return fmt.Errorf("requester %q is not in group %s", o.Spec.Username, nodesGroup)
	}
	if !c.names[node] {
		return fmt.Errorf("no node %q", node)
	}
	if err := checkUsages(o.Spec.Usages); err != nil {
		return err
	}
	req, err := parseRequest(o.Spec.Request)
	if err != nil {
		return err
	}
	if err := checkSubject(req, node); err != nil {
		return err
	}
	if err := checkSANTypes(req); err != nil {
		return err
	}
	if len(req.DNSNames)+len(req.IPAddresses) == 0 {
		return errors.New("no DNS name and no IP address requested")
	}
	for _, d := range req.DNSNames {
		if d != node {
			return fmt.Errorf("DNS name %q is not the node's name %q", d, node)
		}
	}
	for _, ip := range req.IPAddresses {
		if err := c.checkIP(node, ip); err != nil {
			return err
		}
	}
	return nil
}

// checkUsages: digital signature and server auth, key encipherment allowed
// (kubelets ask for it with RSA keys), nothing else.
func checkUsages(usages []string) error {
	seen := map[string]bool{}
	for _, u := range usages {
		switch u {
		case "digital signature", "key encipherment", "server auth":
			seen[u] = true
		default:
			return fmt.Errorf("usage %q is not one of a serving certificate's", u)
		}
	}
	if !seen["digital signature"] || !seen["server auth"] {
		return fmt.Errorf("usages %q lack digital signature or server auth", usages)
	}
	return nil
}

// parseRequest: exactly one PEM "CERTIFICATE REQUEST" block and nothing else,
// a PKCS#10 request that parses and whose signature is by its own key.
func parseRequest(b []byte) (*x509.CertificateRequest, error) {
	block, rest := pem.Decode(b)
	if block == nil {
		return nil, errors.New("request is not PEM")
	}
	if block.Type != "CERTIFICATE REQUEST" {
		return nil, fmt.Errorf("request is a PEM %q block, not CERTIFICATE REQUEST", block.Type)
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("request has data after its PEM block")
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("request does not parse: %v", err)
	}
	if err := req.CheckSignature(); err != nil {
		return nil, fmt.Errorf("request's signature: %v", err)
	}
	return req, nil
}

// checkSubject: exactly CN=system:node:<node>, O=system:nodes, and no other
// attribute.
func checkSubject(req *x509.CertificateRequest, node string) error {
	want := nodeUserPfx + node
	cn, o := 0, 0
	for _, a := range req.Subject.Names {
		v, isString := a.Value.(string)
		switch {
		case a.Type.Equal(oidCommonName) && isString && v == want:
			cn++
		case a.Type.Equal(oidOrganization) && isString && v == nodesGroup:
			o++
		default:
			return fmt.Errorf("subject %q is not CN=%s, O=%s", req.Subject.String(), want, nodesGroup)
		}
	}
	if cn != 1 || o != 1 {
		return fmt.Errorf("subject %q is not CN=%s, O=%s", req.Subject.String(), want, nodesGroup)
	}
	return nil
}

// checkSANTypes: at most one subjectAltName extension, holding only DNS names
// and IP addresses. crypto/x509 skips the general-name types it does not
// know (otherName, directoryName, registeredID ...): read them here.
func checkSANTypes(req *x509.CertificateRequest) error {
	n := 0
	for _, e := range req.Extensions {
		if !e.Id.Equal(oidSubjectAlt) {
			continue
		}
		if n++; n > 1 {
			return errors.New("more than one subjectAltName extension")
		}
		var seq asn1.RawValue
		rest, err := asn1.Unmarshal(e.Value, &seq)
		if err != nil || len(rest) != 0 || seq.Tag != asn1.TagSequence || !seq.IsCompound {
			return errors.New("subjectAltName does not parse")
		}
		for b := seq.Bytes; len(b) > 0; {
			var gn asn1.RawValue
			if b, err = asn1.Unmarshal(b, &gn); err != nil {
				return errors.New("subjectAltName does not parse")
			}
			switch {
			case gn.Class == asn1.ClassContextSpecific && gn.Tag == 2: // dNSName
			case gn.Class == asn1.ClassContextSpecific && gn.Tag == 7: // iPAddress
			case gn.Class == asn1.ClassContextSpecific && gn.Tag == 1:
				return errors.New("an e-mail address is requested")
			case gn.Class == asn1.ClassContextSpecific && gn.Tag == 6:
				return errors.New("a URI is requested")
			default:
				return fmt.Errorf("a subjectAltName of type [%d] is requested", gn.Tag)
			}
		}
	}
	if len(req.URIs) > 0 || len(req.EmailAddresses) > 0 {
		return errors.New("a URI or an e-mail address is requested")
	}
	return nil
}

// checkIP: one of node's own addresses, held by no other node, not a special
// address, outside the Service and pod networks.
func (c *cluster) checkIP(node string, raw []byte) error {
	ip, ok := netip.AddrFromSlice(raw)
	if !ok {
		return fmt.Errorf("IP address %x does not parse", raw)
	}
	if _, err := parseHostAddr(ip.String()); err != nil {
		return fmt.Errorf("IP address %s is %v", ip, err)
	}
	if len(c.services) == 0 {
		return fmt.Errorf("IP address %s: the Service network is unknown, so no address is approved", ip)
	}
	for _, p := range c.services {
		if p.Contains(ip) {
			return fmt.Errorf("IP address %s is in the Service network %s", ip, p)
		}
	}
	for _, p := range c.pods {
		if p.Contains(ip) {
			return fmt.Errorf("IP address %s is in the pod network %s", ip, p)
		}
	}
	if !slices.Contains(c.addrs[node], ip) {
		return fmt.Errorf("IP address %s is not an InternalIP or ExternalIP of node %q", ip, node)
	}
	for _, other := range c.holders[ip] {
		if other != node {
			return fmt.Errorf("IP address %s is also node %q's", ip, other)
		}
	}
	return nil
}

// decodeCSRs decodes a CertificateSigningRequestList item by item, so that one
// malformed item is reported (by name, when it has one) and the others are
// still judged.
func decodeCSRs(b []byte) ([]*csrObject, []error, error) {
	var l struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, nil, fmt.Errorf("not a CertificateSigningRequestList: %v", err)
	}
	var csrs []*csrObject
	var bad []error
	for i, raw := range l.Items {
		o := &csrObject{}
		if err := json.Unmarshal(raw, o); err != nil {
			var named struct {
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			_ = json.Unmarshal(raw, &named)
			bad = append(bad, fmt.Errorf("item %d (%q): unreadable: %v", i, named.Metadata.Name, err))
			continue
		}
		csrs = append(csrs, o)
	}
	return csrs, bad, nil
}
