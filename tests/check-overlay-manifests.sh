#!/bin/sh
# The manifests, the kubeadm template and the audit policy on the image: every file parses as
# YAML (python3-yaml); every image a manifest names is in
# board/common/images/images.txt and every line there is used by a manifest;
# flannel's Network is the kubeadm podSubnet; the StorageClass names the
# CSIDriver; and, with a host kubeadm (KUBEADM, or the one scripts/host-kubeadm
# cached), `kubeadm config validate` accepts the kubeadm template.
set -eu
cd "$(dirname "$0")/.."
py=/usr/bin/python3
$py -c 'import yaml' 2>/dev/null || { echo "SKIP: $py has no yaml module (apt-get install python3-yaml)"; exit 77; }
share=board/common/rootfs-overlay/usr/share/b4k

$py - "$share" board/common/images/images.txt <<'PY'
import glob, ipaddress, json, os, sys, yaml
share, listfile = sys.argv[1], sys.argv[2]
fail = []
docs = {}
for path in sorted(glob.glob(os.path.join(share, "manifests", "*.yaml*"))) + [os.path.join(share, f) for f in ("kubeadm-init.yaml", "audit-policy.yaml")]:
    text = open(path).read().replace("@NFS_SERVER@", "192.0.2.1").replace("@KUBERNETES_VERSION@", "v1.0.0")
    try:
        loaded = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        fail.append(f"{path}: {e}")
        continue
    for d in loaded:
        if not (isinstance(d, dict) and d.get("apiVersion") and d.get("kind")):
            fail.append(f"{path}: a document without apiVersion/kind")
    docs[path] = loaded
print(f"parsed {sum(len(v) for v in docs.values())} documents in {len(docs)} files")

def images(d):
    spec = d.get("spec", {}).get("template", {}).get("spec", {})
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        yield c["image"]

used = {i for path, ds in docs.items() if "/manifests/" in path for d in ds for i in images(d)}
listed = {l.split("#")[0].strip() for l in open(listfile)} - {""}
for i in sorted(used - listed):
    fail.append(f"{listfile}: image {i} is used by a manifest but not in the bundle list")
for i in sorted(listed - used):
    fail.append(f"{listfile}: image {i} is listed but no manifest uses it")

alld = [d for ds in docs.values() for d in ds]
subnet = [d["networking"]["podSubnet"] for d in alld if d["kind"] == "ClusterConfiguration"]
netconf = [json.loads(d["data"]["net-conf.json"]) for d in alld if d["kind"] == "ConfigMap" and "net-conf.json" in d.get("data", {})]
if not subnet or not netconf or ipaddress.ip_network(subnet[0]) != ipaddress.ip_network(netconf[0]["Network"]):
    fail.append(f"flannel Network {netconf and netconf[0].get('Network')} != kubeadm podSubnet {subnet}")
drivers = {d["metadata"]["name"] for d in alld if d["kind"] == "CSIDriver"}
for sc in (d for d in alld if d["kind"] == "StorageClass"):
    if sc["provisioner"] not in drivers:
        fail.append(f"StorageClass {sc['metadata']['name']}: provisioner {sc['provisioner']} is no CSIDriver here ({drivers})")
    if sc["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class") != "true":
        fail.append(f"StorageClass {sc['metadata']['name']} is not the default")
for f in fail:
    print("FAIL:", f)
sys.exit(1 if fail else 0)
PY

version=${KUBERNETES_VERSION:-$(scripts/mk-version package/kubernetes/kubernetes.mk 2>/dev/null || true)}
kubeadm=${KUBEADM:-${XDG_CACHE_HOME:-$HOME/.cache}/b4k/kubeadm-$version/kubeadm}
if [ -z "$version" ] || [ ! -x "$kubeadm" ]; then
	echo "note: kubeadm config validate not run (needs KUBERNETES_VERSION or package/kubernetes/kubernetes.mk, and KUBEADM or the kubeadm tests/check-bundle.sh caches)"
	exit 0
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
sed "s/@KUBERNETES_VERSION@/$version/" "$share/kubeadm-init.yaml" >"$tmp"
"$kubeadm" config validate --config "$tmp"
# k8s-join's JoinConfiguration, with a well-formed (made-up) token and hash.
sed -e 's|@ENDPOINT@|192.0.2.1:6443|' -e 's|@TOKEN@|abcdef.0123456789abcdef|' \
	-e "s|@CA_HASH@|sha256:$(printf '%064d' 0)|" "$share/kubeadm-join.yaml" >"$tmp"
"$kubeadm" config validate --config "$tmp"
echo "kubeadm $version: config validate OK (kubeadm-init.yaml, kubeadm-join.yaml)"
