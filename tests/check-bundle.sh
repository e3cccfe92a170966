#!/bin/sh
# `make images.iso` end to end, offline: Debian's docker-registry on 127.0.0.1,
# one two-architecture (amd64, arm64) image made here from busybox-static for
# every image the bundle must hold, pushed under its real name; then
# `make images.iso BOARD=pc REGISTRY_MIRROR=...` and the ISO compared with what
# was pushed: label, exactly the expected images, each the amd64 variant
# (config digest = image ID, manifest digest), tagged with its name, sha256s.
# Then the node's loader (usr/libexec/b4k/load-images) on that bundle, with a
# stub docker that loads docker-archives into a directory: all images loaded
# once, nothing the second time, only a missing one the third; a corrupt or
# truncated bundle is refused by image name with nothing loaded.
# Needs a kubeadm for this host: KUBEADM, or scripts/host-kubeadm builds one
# from the Go module proxy (~3 min on 2 cores, once; cached).
set -eu
cd "$(dirname "$0")/.."
py=/usr/bin/python3
for tool in skopeo xorriso docker-registry busybox; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found (scripts/host-deps.d/overlay.txt)"; exit 77; }
done
version=${KUBERNETES_VERSION:-$(scripts/mk-version package/kubernetes/kubernetes.mk 2>/dev/null || true)}
[ -n "$version" ] || { echo "SKIP: no package/kubernetes/kubernetes.mk: set KUBERNETES_VERSION=v1.37.x"; exit 77; }
if [ -z "${KUBEADM:-}" ]; then
	command -v go >/dev/null || { echo "SKIP: no Go to build kubeadm $version: set KUBEADM=/path/to/kubeadm"; exit 77; }
	KUBEADM=$(scripts/host-kubeadm "$version")
fi
export KUBERNETES_VERSION="$version"

tmp=$(mktemp -d)
registry_pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	[ -z "$registry_pid" ] || kill "$registry_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
	"$tmp/registry" "$port" >"$tmp/registry.yml"
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
registry_pid=$!
$py - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v2/", timeout=2); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("docker-registry did not answer on 127.0.0.1:%s" % sys.argv[1])
PY

{
	"$KUBEADM" config images list --kubernetes-version "$version"
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' board/common/images/images.txt
} >"$tmp/expected-names"

# One OCI layout per image: an index of an amd64 and an arm64 image, each with a
# busybox layer (shared) and a layer naming the image and architecture.
$py - "$tmp" "$(command -v busybox)" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
tmp, busybox = sys.argv[1], sys.argv[2]
GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
def tar(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data, mode in files:
            info = tarfile.TarInfo(name); info.size = len(data); info.mode = mode; info.mtime = 0
            t.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)
bb = tar([("bin/busybox", open(busybox, "rb").read(), 0o755)])
expected = {}
for n, name in enumerate(l.strip() for l in open(os.path.join(tmp, "expected-names"))):
    layout = os.path.join(tmp, "oci", str(n)); blobs = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobs)
    def blob(data, media):
        d = hashlib.sha256(data).hexdigest()
        open(os.path.join(blobs, d), "wb").write(data)
        return {"mediaType": media, "digest": "sha256:" + d, "size": len(data)}
    manifests, per_arch = [], {}
    for arch in ("amd64", "arm64"):
        own = tar([("etc/b4k-image", f"{name} {arch}\n".encode(), 0o644)])
        layers = [blob(bb, GZ), blob(own, GZ)]
        diff_ids = ["sha256:" + hashlib.sha256(gzip.decompress(x)).hexdigest() for x in (bb, own)]
        config = {"architecture": arch, "os": "linux", "config": {"Entrypoint": ["/bin/busybox"]},
                  "rootfs": {"type": "layers", "diff_ids": diff_ids}}
        c = blob(json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json")
        m = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                             "config": c, "layers": layers}).encode(), "application/vnd.oci.image.manifest.v1+json")
        m["platform"] = {"architecture": arch, "os": "linux"}
        manifests.append(m)
        per_arch[arch] = {"id": c["digest"], "digest": m["digest"]}
    index = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                             "manifests": manifests}).encode(), "application/vnd.oci.image.index.v1+json")
    index["annotations"] = {"org.opencontainers.image.ref.name": "b4k"}
    json.dump({"schemaVersion": 2, "manifests": [index]}, open(os.path.join(layout, "index.json"), "w"))
    open(os.path.join(layout, "oci-layout"), "w").write('{"imageLayoutVersion": "1.0.0"}')
    expected[name] = dict(per_arch["amd64"], layout=layout)
json.dump(expected, open(os.path.join(tmp, "expected.json"), "w"), indent=1)
PY
$py -c 'import json,sys; [print(k, v["layout"]) for k, v in json.load(open(sys.argv[1])).items()]' "$tmp/expected.json" |
	while read -r name layout; do
		skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$layout:b4k" "docker://127.0.0.1:$port/$name" </dev/null
	done
echo "pushed $(wc -l <"$tmp/expected-names") images to 127.0.0.1:$port"

make --no-print-directory images.iso BOARD=pc REGISTRY_MIRROR="127.0.0.1:$port" \
	KUBEADM="$KUBEADM" IMAGES_ISO="$tmp/images.iso"

xorriso -indev "$tmp/images.iso" -pvd_info 2>/dev/null | grep -q '^Volume Id *: K8S_IMAGES$' ||
	{ echo "FAIL: the ISO's volume id is not K8S_IMAGES"; exit 1; }
xorriso -osirrox on -indev "$tmp/images.iso" -extract / "$tmp/iso" 2>/dev/null
$py - "$tmp/iso" "$tmp/expected.json" <<'PY'
import hashlib, json, os, sys, tarfile
iso, expected = sys.argv[1], json.load(open(sys.argv[2]))
fail = []
rows = [l.split() for l in open(os.path.join(iso, "MANIFEST"))]
names = [r[0] for r in rows]
if sorted(names) != sorted(expected) or len(set(names)) != len(names):
    fail.append(f"MANIFEST images {sorted(names)} != expected {sorted(expected)}")
for name, file, sha, image_id, digest in rows:
    e = expected.get(name, {})
    path = os.path.join(iso, file)
    if hashlib.sha256(open(path, "rb").read()).hexdigest() != sha:
        fail.append(f"{name}: sha256 of {file} differs from MANIFEST")
    if image_id != e.get("id"):
        fail.append(f"{name}: image ID {image_id} != pushed amd64 config {e.get('id')}")
    if digest != e.get("digest"):
        fail.append(f"{name}: digest {digest} != pushed amd64 manifest {e.get('digest')}")
    with tarfile.open(path) as t:
        m = json.load(t.extractfile("manifest.json"))
        if len(m) != 1 or m[0]["RepoTags"] != [name]:
            fail.append(f"{name}: {file} is tagged {[x.get('RepoTags') for x in m]}")
        config = t.extractfile(m[0]["Config"]).read()
        if "sha256:" + hashlib.sha256(config).hexdigest() != e.get("id"):
            fail.append(f"{name}: {file} holds config {hashlib.sha256(config).hexdigest()}, not the pushed amd64 one")
        if len(m[0]["Layers"]) != 2:
            fail.append(f"{name}: {file} has {len(m[0]['Layers'])} layers, pushed 2")
for f in fail:
    print("FAIL:", f)
print(f"images.iso: {len(rows)} images checked against the registry")
sys.exit(1 if fail else 0)
PY

# The loader, against a stub docker keeping tags as files in $tmp/docker.
mkdir -p "$tmp/bin"
cat >"$tmp/bin/docker" <<'STUB'
#!/bin/sh
set -eu
d=$DOCKER_STUB
mkdir -p "$d/tags"
key() { echo "$1" | tr '/:' '__'; }
case "$1 $2" in
"image inspect") cat "$d/tags/$(key "$5")" 2>/dev/null ;;
"image rm") rm "$d/tags/$(key "$3")" ;;
"load -q")
	echo "$4" >>"$d/loads"
	/usr/bin/python3 - "$4" "$d/tags" <<'PY'
import hashlib, json, os, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in json.load(t.extractfile("manifest.json")):
        i = "sha256:" + hashlib.sha256(t.extractfile(m["Config"]).read()).hexdigest()
        for tag in m["RepoTags"]:
            open(os.path.join(sys.argv[2], tag.replace("/", "_").replace(":", "_")), "w").write(i + "\n")
PY
	;;
*) echo "docker stub: unexpected: $*" >&2; exit 1 ;;
esac
STUB
chmod +x "$tmp/bin/docker"
loader=board/common/rootfs-overlay/usr/libexec/b4k/load-images
load() { # bundle-dir state-dir
	DOCKER_STUB=$2/docker STATE_DIRECTORY=$2 RUNTIME_DIRECTORY=$2/run PATH="$tmp/bin:$PATH" \
		sh "$loader" "$1" >"$2/out" 2>&1
}
loads() { if [ -f "$1/docker/loads" ]; then wc -l <"$1/docker/loads"; else echo 0; fi; }
n=$(wc -l <"$tmp/expected-names")
fail=0
s=$tmp/s1
mkdir -p "$s"
load "$tmp/iso" "$s" || { cat "$s/out"; fail=1; }
[ "$(loads "$s")" -eq "$n" ] || { echo "FAIL: loader loaded $(loads "$s") of $n images"; fail=1; }
if ! load "$tmp/iso" "$s" || ! grep -q 'already loaded' "$s/out" || [ "$(loads "$s")" -ne "$n" ]; then
	echo "FAIL: second run was not a no-op"; cat "$s/out"; fail=1
fi
rm "$s/docker/tags/registry.k8s.io_pause_"*
if ! load "$tmp/iso" "$s" || [ "$(loads "$s")" -ne $((n + 1)) ]; then
	echo "FAIL: a missing image was not loaded again"; cat "$s/out"; fail=1
fi

cp -r "$tmp/iso" "$tmp/bad"
chmod -R u+w "$tmp/bad"
victim=$(grep 'flannel-cni-plugin' "$tmp/bad/MANIFEST" | cut -d' ' -f2)
printf 'X' | dd of="$tmp/bad/$victim" bs=1 seek=4000 conv=notrunc 2>/dev/null
s=$tmp/s2
mkdir -p "$s"
if load "$tmp/bad" "$s" || [ "$(loads "$s")" -ne 0 ] || ! grep -q "flannel-cni-plugin.*corrupt" "$s/out"; then
	echo "FAIL: a corrupt bundle was not refused by name with nothing loaded"; cat "$s/out"; fail=1
fi
rm "$tmp/bad/$(grep 'kube-proxy' "$tmp/bad/MANIFEST" | cut -d' ' -f2)"
s=$tmp/s3
mkdir -p "$s"
if load "$tmp/bad" "$s" || [ "$(loads "$s")" -ne 0 ] || ! grep -q "kube-proxy.*missing" "$s/out"; then
	echo "FAIL: a truncated bundle was not refused by name"; cat "$s/out"; fail=1
fi
[ "$fail" -ne 0 ] || echo "loader: $n images loaded once, reloads only what is missing, refuses bad bundles by name"
exit "$fail"
