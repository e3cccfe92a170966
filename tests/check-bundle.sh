#!/bin/sh
# `make images.iso` end to end, offline: Debian's docker-registry on 127.0.0.1,
# one two-architecture (amd64, arm64) image made here from busybox-static for
# every image the bundle must hold, pushed under its real name; then
# `make images.iso BOARD=pc REGISTRY_MIRROR=...` and the ISO compared with what
# was pushed: label, exactly the expected images, each the amd64 variant
# (config digest = image ID, manifest digest), tagged with its name, sha256s.
# Then the node's loader (usr/libexec/b4k/load-images) on that bundle, with a
# stub docker that loads docker-archives into a directory: all images loaded
# once (from root-only staging copies, never from the disc), nothing the
# second time, only a missing one the third, with the
# bundle's list baked in as post-build.sh does; the same with containerd as
# the runtime (stub ctr and crictl: imported into the k8s.io namespace, each
# image pinned; an image there unpinned is imported again); refused by image name with
# nothing loaded or tagged: a corrupt or truncated bundle, an archive that also
# tags another image, a manifest.json key that folds to RepoTags (U+017F), a
# non-ASCII image name, a MANIFEST file name with ../, a disc that differs from
# the baked list, a disc with no baked list and no opt-in.
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

# The loader, against a stub docker keeping "name id" lines in $DOCKER_STUB/tags.
mkdir -p "$tmp/bin"
cat >"$tmp/bin/docker" <<'STUB'
#!/bin/sh
set -eu
d=$DOCKER_STUB
mkdir -p "$d"
touch "$d/tags"
untag() { grep -v "^$1 " "$d/tags" >"$d/tags.new" || true; mv "$d/tags.new" "$d/tags"; }
case "$1 $2" in
"image inspect") awk -v n="$5" '$1 == n { print $2; f = 1 } END { exit !f }' "$d/tags" ;;
"image rm") grep -q "^$3 " "$d/tags" && untag "$3" ;;
"image ls") cat "$d/tags" ;;
"tag "*) untag "$3"; echo "$3 $2" >>"$d/tags" ;;
"load -q")
	echo "$4" >>"$d/loads"
	# as docker load: every RepoTags entry of every manifest.json entry
	/usr/bin/python3 - "$4" "$d/tags" <<'PY'
import hashlib, json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in json.load(t.extractfile("manifest.json")):
        i = "sha256:" + hashlib.sha256(t.extractfile(m["Config"]).read()).hexdigest()
        for tag in m["RepoTags"]:
            lines = [l for l in open(sys.argv[2]) if l.split()[0] != tag]
            open(sys.argv[2], "w").write("".join(lines) + "%s %s\n" % (tag, i))
PY
	;;
*) echo "docker stub: unexpected: $*" >&2; exit 1 ;;
esac
STUB
chmod +x "$tmp/bin/docker"
loader=board/common/rootfs-overlay/usr/libexec/b4k/load-images
echo docker >"$tmp/runtime-docker"
echo containerd >"$tmp/runtime-containerd"
load() { # bundle-dir state-dir [baked-list]: with no baked list, the opt-in file exists
	mkdir -p "$2"
	if [ -n "${3:-}" ]; then bk=$3 oi=$2/no-opt-in; else bk=$2/no-baked-list oi=$2/opt-in; touch "$oi"; fi
	DOCKER_STUB=$2/docker CTR_STUB=$2/docker STATE_DIRECTORY=$2 RUNTIME_DIRECTORY=$2/run PATH="$tmp/bin:$PATH" \
		B4K_RUNTIME_FILE=$tmp/runtime-${RUNTIME:-docker} \
		B4K_IMAGES_BAKED=$bk B4K_IMAGES_OPTIN=$oi sh "$loader" "$1" >"$2/out" 2>&1
}
loads() { if [ -f "$1/docker/loads" ]; then wc -l <"$1/docker/loads"; else echo 0; fi; }
tagged() { if [ -f "$1/docker/tags" ]; then wc -l <"$1/docker/tags"; else echo 0; fi; }
refused() { # state-dir what pattern: refused, naming it (pattern), nothing loaded or tagged
	if [ "$(loads "$1")" -ne 0 ] || [ "$(tagged "$1")" -ne 0 ] || ! grep -q "$3" "$1/out"; then
		echo "FAIL: $2 was not refused by name with nothing loaded"; cat "$1/out"; fail=1
	else
		echo "refused: $2: $(grep -m1 "$3" "$1/out" | sed 's/^<3>//')"
	fi
}
copy() { rm -rf "$2"; cp -r "$1" "$2"; chmod -R u+w "$2"; }
n=$(wc -l <"$tmp/expected-names")
fail=0
# The list a build with this bundle bakes into the image (post-build.sh).
baked=$tmp/images.manifest
cp "$tmp/iso/MANIFEST" "$baked"

s=$tmp/s1
load "$tmp/iso" "$s" "$baked" || { cat "$s/out"; fail=1; }
[ "$(loads "$s")" -eq "$n" ] || { echo "FAIL: loader loaded $(loads "$s") of $n images"; fail=1; }
[ "$(tagged "$s")" -eq "$n" ] || { echo "FAIL: $(tagged "$s") tags after loading $n images"; cat "$s/docker/tags"; fail=1; }
# loaded from root-only copies (STATE/staging), never from the disc itself
if grep -qv "^$s/staging/" "$s/docker/loads" || [ -e "$s/staging" ]; then
	echo "FAIL: the loader loaded from elsewhere than its staging copies, or left them:"; cat "$s/docker/loads"; fail=1
fi
if ! load "$tmp/iso" "$s" "$baked" || ! grep -q 'already loaded' "$s/out" || [ "$(loads "$s")" -ne "$n" ]; then
	echo "FAIL: second run was not a no-op"; cat "$s/out"; fail=1
fi
grep -v '^registry.k8s.io/pause:' "$s/docker/tags" >"$s/docker/tags.new" && mv "$s/docker/tags.new" "$s/docker/tags"
if ! load "$tmp/iso" "$s" "$baked" || [ "$(loads "$s")" -ne $((n + 1)) ]; then
	echo "FAIL: a missing image was not loaded again"; cat "$s/out"; fail=1
fi

# Hostile and broken discs: each refused by name, nothing of it loaded or tagged.
entry() { grep "^$1" "$2/MANIFEST" | cut -d' ' -f"$3"; }
# 1. corrupt file (opt-in: the disc's own MANIFEST is the list)
copy "$tmp/iso" "$tmp/bad"
printf 'X' | dd of="$tmp/bad/$(entry ghcr.io/flannel-io/flannel-cni-plugin "$tmp/bad" 2)" bs=1 seek=4000 conv=notrunc 2>/dev/null
load "$tmp/bad" "$tmp/s2" && fail=1
refused "$tmp/s2" "a corrupt file" "flannel-cni-plugin.*corrupt"
# 2. truncated bundle
rm "$tmp/bad/$(entry registry.k8s.io/kube-proxy "$tmp/bad" 2)"
load "$tmp/bad" "$tmp/s3" && fail=1
refused "$tmp/s3" "a missing file" "kube-proxy.*missing"
# 3. an archive that also tags another listed image (and its MANIFEST sha256 to match)
copy "$tmp/iso" "$tmp/evil"
victim=$(entry registry.k8s.io/pause "$tmp/evil" 2)
other=$(grep -m1 '^registry.k8s.io/kube-apiserver:' "$tmp/evil/MANIFEST" | cut -d' ' -f1)
$py - "$tmp/evil/$victim" "$other" <<'PY'
import io, json, sys, tarfile
path, extra = sys.argv[1], sys.argv[2]
with tarfile.open(path) as t:
    members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
with tarfile.open(path, "w") as t:
    for m, data in members:
        if m.name == "manifest.json":
            j = json.loads(data)
            j[0]["RepoTags"].append(extra)
            data = json.dumps(j).encode()
            m.size = len(data)
        t.addfile(m, io.BytesIO(data) if data is not None else None)
PY
sum=$(sha256sum "$tmp/evil/$victim" | cut -d' ' -f1)
awk -v f="$victim" -v s="$sum" '$2 == f { $3 = s } { print }' "$tmp/evil/MANIFEST" >"$tmp/evil/M" && mv "$tmp/evil/M" "$tmp/evil/MANIFEST"
load "$tmp/evil" "$tmp/s4" && fail=1
refused "$tmp/s4" "an archive with an extra tag ($other)" "registry.k8s.io/pause:.*would tag other images"
# 4. a MANIFEST file name that leaves the disc
copy "$tmp/iso" "$tmp/dots"
awk '/^registry.k8s.io\/etcd:/ { $2 = "images/../../../etc/shadow" } { print }' "$tmp/dots/MANIFEST" >"$tmp/dots/M" &&
	mv "$tmp/dots/M" "$tmp/dots/MANIFEST"
load "$tmp/dots" "$tmp/s5" && fail=1
refused "$tmp/s5" "a file name with ../" "etcd.*is not images/<number>.tar"
# 5. a disc whose digests differ from the baked list (the evil disc of 3.)
load "$tmp/evil" "$tmp/s6" "$baked" && fail=1
refused "$tmp/s6" "a disc that differs from the baked list" "registry.k8s.io/pause:.*differs from"
# 6. no baked list and no opt-in
mkdir -p "$tmp/s7"
DOCKER_STUB=$tmp/s7/docker STATE_DIRECTORY=$tmp/s7 RUNTIME_DIRECTORY=$tmp/s7/run PATH="$tmp/bin:$PATH" \
	B4K_RUNTIME_FILE=$tmp/runtime-docker B4K_IMAGES_BAKED=$tmp/s7/none B4K_IMAGES_OPTIN=$tmp/s7/none sh "$loader" "$tmp/iso" >"$tmp/s7/out" 2>&1 && fail=1
refused "$tmp/s7" "a disc with no baked list and no opt-in" "built without a bundle list"
# 7. an archive whose manifest.json adds a key that docker's JSON decoding folds
# into RepoTags ("RepoTag\u017f" as UTF-8: U+017F folds to s), tagging another image
copy "$tmp/iso" "$tmp/fold"
victim=$(entry registry.k8s.io/pause "$tmp/fold" 2)
$py - "$tmp/fold/$victim" "$other" <<'PY'
import io, json, sys, tarfile
path, extra = sys.argv[1], sys.argv[2]
with tarfile.open(path) as t:
    members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
with tarfile.open(path, "w") as t:
    for m, data in members:
        if m.name == "manifest.json":
            j = json.loads(data)
            j[0]["RepoTag\u017f"] = [extra]
            data = json.dumps(j, ensure_ascii=False).encode()
            m.size = len(data)
        t.addfile(m, io.BytesIO(data) if data is not None else None)
PY
sum=$(sha256sum "$tmp/fold/$victim" | cut -d' ' -f1)
awk -v f="$victim" -v s="$sum" '$2 == f { $3 = s } { print }' "$tmp/fold/MANIFEST" >"$tmp/fold/M" && mv "$tmp/fold/M" "$tmp/fold/MANIFEST"
load "$tmp/fold" "$tmp/s8" && fail=1
refused "$tmp/s8" "a manifest.json key that folds to RepoTags (U+017F)" "registry.k8s.io/pause:.*would tag other images"
# 8. a MANIFEST image name with a non-ASCII letter
copy "$tmp/iso" "$tmp/utf"
$py - "$tmp/utf/MANIFEST" <<'PY'
import sys
p = sys.argv[1]
lines = open(p, encoding="utf-8").read().splitlines(True)
lines = [l.replace("registry.k8s.io/etcd:", "regi\u017ftry.k8s.io/etcd:", 1) for l in lines]
open(p, "w", encoding="utf-8").write("".join(lines))
PY
load "$tmp/utf" "$tmp/s9" && fail=1
refused "$tmp/s9" "a non-ASCII image name" "etcd:.*not an image name"

# containerd: a stub ctr keeping "name id labels" lines in $CTR_STUB/tags (the
# CRI plugin's k8s.io namespace only) and a stub crictl answering from them as
# containerd's CRI would: the image ID (its config's digest) and whether it is
# pinned (the io.cri-containerd.pinned=pinned label).
cat >"$tmp/bin/ctr" <<'STUB'
#!/bin/sh
set -eu
d=$CTR_STUB
mkdir -p "$d"
touch "$d/tags"
[ "$1 $2 $3 $4" = "-a /run/containerd/containerd.sock -n k8s.io" ] || { echo "ctr stub: not the CRI's namespace: $*" >&2; exit 1; }
shift 4
untag() { grep -v "^$1 " "$d/tags" >"$d/tags.new" || true; mv "$d/tags.new" "$d/tags"; }
case "$1 $2" in
"images ls")
	echo "REF TYPE DIGEST SIZE PLATFORMS LABELS"
	awk '{ print $1, "application/vnd.docker.distribution.manifest.v2+json", $2, "1.0 MiB", "linux/amd64", $3 }' "$d/tags" ;;
"images rm") grep -q "^$3 " "$d/tags" && untag "$3" ;;
"images import")
	shift 2
	labels=-
	while [ $# -gt 1 ]; do
		[ "$1" = --label ] || { echo "ctr stub: unexpected: $1" >&2; exit 1; }
		labels=$labels,$2
		shift 2
	done
	echo "$1" >>"$d/loads"
	# as ctr import of a docker archive: every RepoTags entry of manifest.json
	/usr/bin/python3 - "$1" "$d/tags" "$labels" <<'PY'
import hashlib, json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in json.load(t.extractfile("manifest.json")):
        i = "sha256:" + hashlib.sha256(t.extractfile(m["Config"]).read()).hexdigest()
        for tag in m["RepoTags"]:
            lines = [l for l in open(sys.argv[2]) if l.split()[0] != tag]
            open(sys.argv[2], "w").write("".join(lines) + "%s %s %s\n" % (tag, i, sys.argv[3]))
PY
	;;
*) echo "ctr stub: unexpected: $*" >&2; exit 1 ;;
esac
STUB
cat >"$tmp/bin/crictl" <<'STUB'
#!/bin/sh
set -eu
[ "$1 $2 $3 $4 $5 $6 $7" = "-i unix:///run/containerd/containerd.sock inspecti -o go-template --template {{.status.id}} {{.status.pinned}}" ] ||
	{ echo "crictl stub: unexpected: $*" >&2; exit 1; }
awk -v n="$8" '$1 == n { print $2, ($3 ~ /,io\.cri-containerd\.pinned=pinned(,|$)/ ? "true" : "false"); f = 1 }
	END { if (!f) { print "no such image \"" n "\" present" > "/dev/stderr"; exit 1 } }' "$CTR_STUB/tags"
STUB
chmod +x "$tmp/bin/ctr" "$tmp/bin/crictl"
s=$tmp/c1
RUNTIME=containerd load "$tmp/iso" "$s" "$baked" || { cat "$s/out"; fail=1; }
[ "$(loads "$s")" -eq "$n" ] || { echo "FAIL: containerd: loader imported $(loads "$s") of $n images"; cat "$s/out"; fail=1; }
pinned=$(grep -c ',io.cri-containerd.pinned=pinned' "$s/docker/tags" || true)
[ "$pinned" -eq "$n" ] || { echo "FAIL: containerd: $pinned of $n images pinned"; cat "$s/docker/tags"; fail=1; }
if grep -qv "^$s/staging/" "$s/docker/loads"; then
	echo "FAIL: containerd: imported from elsewhere than the staging copies:"; cat "$s/docker/loads"; fail=1
fi
if ! RUNTIME=containerd load "$tmp/iso" "$s" "$baked" || ! grep -q 'already loaded' "$s/out" || [ "$(loads "$s")" -ne "$n" ]; then
	echo "FAIL: containerd: second run was not a no-op"; cat "$s/out"; fail=1
fi
# the pause image there but unpinned (its label dropped): imported again, pinned
sed -i '/^registry.k8s.io\/pause:/s/,io.cri-containerd.pinned=pinned//' "$s/docker/tags"
if ! RUNTIME=containerd load "$tmp/iso" "$s" "$baked" || [ "$(loads "$s")" -ne $((n + 1)) ] ||
	! grep -q '^registry.k8s.io/pause:.*,io.cri-containerd.pinned=pinned' "$s/docker/tags"; then
	echo "FAIL: containerd: an unpinned image was not imported again, pinned"; cat "$s/out"; fail=1
fi
# a disc that differs from the baked list: refused, nothing imported
RUNTIME=containerd load "$tmp/evil" "$tmp/c2" "$baked" && fail=1
refused "$tmp/c2" "containerd: a disc that differs from the baked list" "registry.k8s.io/pause:.*differs from"
[ "$fail" -ne 0 ] || echo "loader: $n images loaded once (docker; containerd: pinned), reloads only what is missing, refuses bad and hostile bundles by name"
exit "$fail"
