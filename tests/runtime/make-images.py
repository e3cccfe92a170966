#!/usr/bin/python3
"""Runtime lane: assemble the bundle's container images locally, as OCI layouts.

Every name in --list (kubeadm's images and board/common/images/images.txt) gets
an image of --arch (amd64 or arm64) laid out as upstream's image lays it out
(binary paths, entry point), made of the binaries built by build-pieces.sh (--bin)
and, where the upstream image carries them, Debian's iptables / mount.nfs with
their shared libraries (from a Debian userland of that architecture, --base:
build-base.sh) and busybox with all its applets (upstream's flannel images are
alpine-based; the e2e pods run them).  A name
whose binary is missing gets a stand-in image (a file naming it), reported as
such: good enough for the bundle's loading checks, not for running a cluster.
Writes one OCI layout per image under --out and prints "<name> <layout> real|stand-in".
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile

PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# repository (no tag) -> (binaries: [(name in --bin, path in image)], entrypoint, tools)
SPECS = {
    "registry.k8s.io/kube-apiserver": ([("kube-apiserver", "usr/local/bin/kube-apiserver")], None, []),
    "registry.k8s.io/kube-controller-manager":
        ([("kube-controller-manager", "usr/local/bin/kube-controller-manager")], None, []),
    "registry.k8s.io/kube-scheduler": ([("kube-scheduler", "usr/local/bin/kube-scheduler")], None, []),
    # upstream's base, kubernetes/release images/build/distroless-iptables, has iptables,
    # ipset and nft: kube-proxy's iptables, ipvs and nftables modes; and, from
    # gcr.io/distroless/static, netbase's /etc/protocols, without which ipset cannot parse
    # "tcp" in kube-proxy's ipvs entries (10.96.0.10,tcp:53): no Service IP worked (s9)
    "registry.k8s.io/kube-proxy": ([("kube-proxy", "usr/local/bin/kube-proxy")], None,
                                   ["iptables", "ipset", "nft", "netbase"]),
    "registry.k8s.io/etcd": ([("etcd", "usr/local/bin/etcd")], None, []),
    "registry.k8s.io/pause": ([("pause", "pause")], ["/pause"], []),
    "registry.k8s.io/coredns/coredns": ([("coredns", "coredns")], ["/coredns"], []),
    "ghcr.io/flannel-io/flannel": ([("flanneld", "opt/bin/flanneld"), ("install_conf", "opt/bin/install-conf")],
                                   ["/opt/bin/flanneld"], ["iptables", "busybox", "netbase"]),
    "ghcr.io/flannel-io/flannel-cni-plugin": ([("flannel-cni", "flannel")], None, ["busybox"]),
    "registry.k8s.io/sig-storage/nfsplugin": ([("nfsplugin", "nfsplugin")], ["/nfsplugin"], ["mount.nfs"]),
    "registry.k8s.io/sig-storage/csi-provisioner": ([("csi-provisioner", "csi-provisioner")],
                                                    ["/csi-provisioner"], []),
    "registry.k8s.io/sig-storage/livenessprobe": ([("livenessprobe", "livenessprobe")], ["/livenessprobe"], []),
    "registry.k8s.io/sig-storage/csi-node-driver-registrar":
        ([("csi-node-driver-registrar", "csi-node-driver-registrar")], ["/csi-node-driver-registrar"], []),
}
# tool -> (files of the Debian userland, symlinks in the image, directories of the Debian
# userland whose every file comes too). Each file comes with the shared libraries ldd names
# for it; a directory's files are listed because ldd of a binary misses what it dlopens:
# iptables' match and target extensions (libxt_statistic.so needs libm, and kube-proxy's
# rules for a Service of two endpoints fail without it).
TOOLS = {
    "iptables": (["usr/sbin/xtables-nft-multi", "usr/sbin/conntrack"],
                 {"usr/sbin/" + n: "xtables-nft-multi" for n in (
                     "iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save",
                     "ip6tables-restore", "iptables-nft", "iptables-nft-save", "iptables-nft-restore",
                     "ip6tables-nft", "ip6tables-nft-save", "ip6tables-nft-restore")},
                 ["usr/lib/{triplet}/xtables"]),
    "mount.nfs": (["usr/sbin/mount.nfs", "usr/bin/mount", "usr/bin/umount"],
                  {"usr/sbin/mount.nfs4": "mount.nfs", "usr/sbin/umount.nfs": "mount.nfs",
                   "usr/sbin/umount.nfs4": "mount.nfs"}, []),
    "ipset": (["usr/sbin/ipset"], {}, []),
    "nft": (["usr/sbin/nft"], {}, []),
    # every applet, as the alpine base of upstream's flannel images has them
    "busybox": ([], {}, []),
    # data files, not programs: the name-number tables of getprotobyname(3) and
    # getservbyname(3), which both distroless/static and alpine carry
    "netbase": (["etc/protocols", "etc/services"], {}, []),
}
MERGED = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}
# Debian's multiarch directory of each architecture
TRIPLET = {"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}
HOST_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine)


def needed(base, path, triplet, seen):
    """The shared libraries the ELF file `path` of `base` loads, found as the dynamic
    loader finds them in a Debian tree (its interpreter; DT_NEEDED in the multiarch
    directories, then usr/lib), recursively: ldd's answer, for a tree whose programs
    cannot run here (another architecture). readelf reads any architecture's ELF."""
    r = subprocess.run(["readelf", "-d", "-l", "-W", os.path.join(base, path)], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("make-images: readelf %s: %s" % (path, r.stderr.strip()))
    found = re.findall(r"\[Requesting program interpreter: /(\S+)\]", r.stdout)
    for name in re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", r.stdout):
        if any(os.path.basename(x) == name for x in seen | set(found)):
            continue  # loaded already (libc's NEEDED of the loader: the interpreter is it)
        for d in ("usr/lib/" + triplet, "usr/lib"):
            if os.path.lexists(os.path.join(base, d, name)):
                found.append(d + "/" + name)
                break
        else:
            raise SystemExit("make-images: %s needs %s, which %s does not have" % (path, name, base))
    for lib in found:
        if lib not in seen:
            seen.add(lib)
            needed(base, lib, triplet, seen)
    return seen


def closure(base, paths, arch):
    """The files `paths` of the Debian tree `base` need: themselves and their shared
    libraries (ldd in the tree when it runs here, else needed())."""
    out, seen = set(), set()
    for p in paths:
        out.add(p)
        if p.startswith("etc/"):
            continue  # data, not a program
        if arch == HOST_ARCH:
            ldd = subprocess.run(["chroot", base, "ldd", "/" + p], capture_output=True, text=True)
            out.update(lib.lstrip("/") for lib in re.findall(r"(/\S+) \(0x", ldd.stdout))
        else:
            out.update(needed(base, p, TRIPLET[arch], seen))
    # merged /usr: bin, sbin, lib, lib64 are symlinks into usr/ in the image
    return {"usr/" + p if p.split("/")[0] in MERGED else p for p in out}


def real(base, rel):
    """Content of `rel` in `base`, following symlinks inside `base`."""
    path = os.path.join(base, rel)
    for _ in range(20):
        if not os.path.islink(path):
            break
        t = os.readlink(path)
        path = os.path.join(base, t.lstrip("/")) if t.startswith("/") else os.path.join(os.path.dirname(path), t)
    return open(path, "rb").read()


def layer(files, links):
    """A gzip'd tar of files {path: (bytes, mode)} and links {path: target}, reproducible."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        dirs = set()
        for p in list(files) + list(links):
            d = os.path.dirname(p)
            while d and d not in dirs:
                dirs.add(d)
                d = os.path.dirname(d)
        for d in sorted(dirs):
            if d in MERGED:
                continue
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
            t.addfile(info)
        for p, target in sorted(links.items()):
            info = tarfile.TarInfo(p)
            info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, target, 0o777, 0
            t.addfile(info)
        for p, (data, mode) in sorted(files.items()):
            info = tarfile.TarInfo(p)
            info.size, info.mode, info.mtime = len(data), mode, 0
            t.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def busybox_applets(busybox, arch, host_busybox):
    """The applet names of `busybox`: its own --list when it runs here; for another
    architecture, the list of this machine's busybox (`host_busybox`), only when both
    are the same Debian build (their version strings, e.g. "BusyBox v1.35.0 (Debian
    1:1.35.0-4+deb12u1+b1)", are equal: one source package, one configuration)."""
    if arch == HOST_ARCH:
        host_busybox = busybox
    else:
        def version(path):
            m = re.search(rb"BusyBox v[^\0\n]*\(Debian [^)\0]*\)", open(path, "rb").read())
            return m.group(0).decode() if m else None
        if version(busybox) is None or version(busybox) != version(host_busybox):
            raise SystemExit("make-images: %s (%s) and %s (%s) are not the same Debian busybox: "
                             "cannot list the former's applets" % (busybox, version(busybox),
                                                                  host_busybox, version(host_busybox)))
    r = subprocess.run([host_busybox, "--list"], capture_output=True, text=True, check=True)
    return r.stdout.split()


def oci(layout, layers, entrypoint, arch):
    """Write an OCI image layout of `layers` (gzip'd tars) for linux/`arch`, tagged b4k."""
    blobs = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def blob(data, media):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, d), "wb") as f:
            f.write(data)
        return {"mediaType": media, "digest": "sha256:" + d, "size": len(data)}

    gz = "application/vnd.oci.image.layer.v1.tar+gzip"
    descs = [blob(x, gz) for x in layers]
    config = {"architecture": arch, "os": "linux", "created": "1970-01-01T00:00:00Z",
              "config": {"Env": [PATH]},
              "rootfs": {"type": "layers",
                         "diff_ids": ["sha256:" + hashlib.sha256(gzip.decompress(x)).hexdigest() for x in layers]}}
    if entrypoint:
        config["config"]["Entrypoint"] = entrypoint
    c = blob(json.dumps(config, sort_keys=True).encode(), "application/vnd.oci.image.config.v1+json")
    m = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                         "config": c, "layers": descs}, sort_keys=True).encode(),
             "application/vnd.oci.image.manifest.v1+json")
    m["annotations"] = {"org.opencontainers.image.ref.name": "b4k"}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [m]}, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion": "1.0.0"}')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", required=True)
    ap.add_argument("--bin", required=True, help="binaries built by build-pieces.sh (STAGE/bin)")
    ap.add_argument("--base", required=True, help="the node's Debian userland (build-base.sh)")
    ap.add_argument("--arch", default="amd64", choices=sorted(TRIPLET))
    ap.add_argument("--busybox", help="the images' busybox (default: --base's usr/bin/busybox "
                    "for another architecture than this machine's, else /bin/busybox)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    host_busybox = "/bin/busybox"
    a.busybox = a.busybox or (host_busybox if a.arch == HOST_ARCH else os.path.join(a.base, "usr/bin/busybox"))
    status = 0
    for n, name in enumerate(line.strip() for line in open(a.list) if line.strip()):
        repo = name.rsplit(":", 1)[0]
        if repo not in SPECS:
            print("make-images: no recipe for %s" % name, file=sys.stderr)
            status = 1
            continue
        binaries, entrypoint, tools = SPECS[repo]
        missing = [b for b, _ in binaries if not os.path.isfile(os.path.join(a.bin, b))]
        layout = os.path.join(a.out, "%02d" % n)
        if missing:
            oci(layout, [layer({"b4k-stand-in": (("%s: stand-in, missing %s\n" % (name, " ".join(missing))).encode(),
                                                 0o644)}, {})], entrypoint, a.arch)
            print(name, layout, "stand-in")
            continue
        layers = []
        files, links = {}, dict(MERGED)
        for tool in tools:
            paths, tool_links, dirs = TOOLS[tool]
            dirs = [d.format(triplet=TRIPLET[a.arch]) for d in dirs]
            paths = paths + [d + "/" + f for d in dirs for f in sorted(os.listdir(os.path.join(a.base, d)))]
            links.update(tool_links)
            for p in closure(a.base, paths, a.arch):
                # etc/ holds data (netbase's tables); the rest are programs and libraries
                files[p] = (real(a.base, p), 0o644 if p.startswith("etc/") else 0o755)
            if tool == "busybox":
                files["usr/bin/busybox"] = (open(a.busybox, "rb").read(), 0o755)
                links.update({"usr/bin/" + x: "busybox" for x in busybox_applets(a.busybox, a.arch, host_busybox)
                              if x != "busybox" and "usr/bin/" + x not in links})
        if files:
            layers.append(layer(files, links))
        layers.append(layer({dest: (open(os.path.join(a.bin, b), "rb").read(), 0o755) for b, dest in binaries},
                            {} if files else {}))
        oci(layout, layers, entrypoint, a.arch)
        print(name, layout, "real")
    return status


if __name__ == "__main__":
    sys.exit(main())
