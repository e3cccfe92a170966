#!/bin/sh
# The control plane's approver of kubelet serving certificates
# (b4k-node csr-approve, src/b4k-node-tools), played against as an attacker
# would: real PKCS#10 requests made with Go's crypto/x509
# (src/b4k-node-tools/testdata/mkcsrs: a DNS name with a newline, the
# kubernetes Service's IP and another node's address that the requesting node
# wrote into its own status, an IPv4-mapped address, wrong usages, URI, e-mail
# and otherName SANs, another node's subject, a subject that matches only as a
# regular expression, a requester outside system:nodes or not a node, an
# unknown node, a request that is not PKCS#10 listed before the good ones),
# fed to the real program with a fake kubectl on PATH that serves them as JSON
# and records approvals. Passes when exactly the good requests are approved
# and every other one is logged as left pending.
# CSR_APPROVER=path runs another approver instead (e.g. the shell script this
# replaced, to see this test fail on it). Also gofmt, go vet and the
# program's Go tests.
set -eu
cd "$(dirname "$0")/.."
PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "SKIP: go not found (needed to build src/b4k-node-tools)"; exit 77; }
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=src/b4k-node-tools
export GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPROXY=off CGO_ENABLED=0
unformatted=$(gofmt -l "$src")
[ -z "$unformatted" ] || { echo "FAIL: not gofmt-formatted: $unformatted"; exit 1; }
(cd "$src" && go vet ./... && go test -count=1 ./... && go build -trimpath -o "$tmp/b4k-node" .)
(cd "$src" && go run ./testdata/mkcsrs "$tmp")

mkdir -p "$tmp/bin"
cat >"$tmp/bin/kubectl" <<'STUB'
#!/usr/bin/python3
# kubectl as far as the approvers use it: `get csr|nodes -o json`, the
# jsonpath queries of the shell approver, `certificate approve NAME`
# (recorded in $FAKE_KUBE/approved).
import base64, json, os, sys
d = os.environ["FAKE_KUBE"]
args = [a for a in sys.argv[1:] if not a.startswith("--request-timeout")]
if args[:1] == ["--kubeconfig"]:
    args = args[2:]
csrs = json.load(open(os.path.join(d, "csrs.json")))["items"]
nodes = json.load(open(os.path.join(d, "nodes.json")))["items"]
def one(items, name):
    for i in items:
        if i["metadata"]["name"] == name:
            return i
    sys.exit("Error from server (NotFound): %s not found" % name)
if args == ["get", "csr", "-o", "json"]:
    print(open(os.path.join(d, "csrs.json")).read())
elif args == ["get", "nodes", "-o", "json"]:
    print(open(os.path.join(d, "nodes.json")).read())
elif args[:2] == ["certificate", "approve"] and len(args) == 3:
    one(csrs, args[2])
    open(os.path.join(d, "approved"), "a").write(args[2] + "\n")
    print("certificatesigningrequest.certificates.k8s.io/%s approved" % args[2])
elif args[:2] == ["get", "csr"] and args[-2] == "-o" and args[-1].startswith("jsonpath="):
    q = args[-1][len("jsonpath="):]
    if len(args) == 4 and "signerName" in q:
        for c in csrs:
            if c["spec"]["signerName"] == "kubernetes.io/kubelet-serving":
                conds = " ".join(x["type"] for x in (c.get("status", {}).get("conditions") or []))
                print("%s %s %s" % (c["metadata"]["name"], c["spec"]["username"], conds))
    elif q == "{.spec.groups}":
        sys.stdout.write(json.dumps(one(csrs, args[2])["spec"]["groups"], separators=(",", ":")))
    elif q == "{.spec.request}":
        sys.stdout.write(one(csrs, args[2])["spec"]["request"])
    else:
        sys.exit("kubectl stub: unexpected query %s" % q)
elif args[:2] == ["get", "node"] and args[-1].startswith("jsonpath="):
    for a in one(nodes, args[2])["status"]["addresses"]:
        print(a["address"])
else:
    sys.exit("kubectl stub: unexpected: %s" % " ".join(sys.argv[1:]))
STUB
chmod +x "$tmp/bin/kubectl"
printf -- '- --service-cluster-ip-range=10.96.0.0/12\n' >"$tmp/kube-apiserver.yaml"
printf -- '- --cluster-cidr=10.244.0.0/16\n' >"$tmp/kube-controller-manager.yaml"

if [ -n "${CSR_APPROVER:-}" ]; then
	set -- "$CSR_APPROVER"
else
	set -- "$tmp/b4k-node" csr-approve --kubeconfig "$tmp/admin.conf" \
		--apiserver-manifest "$tmp/kube-apiserver.yaml" \
		--controller-manager-manifest "$tmp/kube-controller-manager.yaml"
fi
rc=0
FAKE_KUBE=$tmp PATH="$tmp/bin:$PATH" "$@" >"$tmp/log" 2>&1 || rc=$?
cat "$tmp/log"
fail=0
[ "$rc" -eq 0 ] || { echo "FAIL: the approver exited $rc"; fail=1; }
touch "$tmp/approved"
sort "$tmp/approved" >"$tmp/got"
sort "$tmp/expected" >"$tmp/want"
if ! cmp -s "$tmp/got" "$tmp/want"; then
	echo "FAIL: approved requests differ from the good ones (-expected +approved):"
	diff "$tmp/want" "$tmp/got" | sed -n 's/^[<>]/&/p'
	fail=1
fi
# Every request of a kubelet-serving signer that is pending and not good:
# named in the log as left pending.
$py - "$tmp/csrs.json" "$tmp/want" "$tmp/log" <<'PY' || fail=1
import json, sys
csrs = json.load(open(sys.argv[1]))["items"]
good = set(open(sys.argv[2]).read().split())
log = open(sys.argv[3]).read()
bad = [c["metadata"]["name"] for c in csrs
       if c["spec"]["signerName"] == "kubernetes.io/kubelet-serving"
       and not (c.get("status", {}).get("conditions")) and c["metadata"]["name"] not in good]
missing = [n for n in bad if not any(n in l and "left pending" in l for l in log.splitlines())]
for n in missing:
    print("FAIL: %s is not logged as left pending" % n)
sys.exit(1 if missing else 0)
PY
[ "$fail" -ne 0 ] || echo "csr-approve: approved exactly $(wc -l <"$tmp/want") good requests of $($py -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$tmp/csrs.json"), every other one logged as left pending"
exit "$fail"
