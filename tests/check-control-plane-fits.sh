#!/bin/sh
# usr/libexec/b4k/control-plane-fits, which k8s-init runs first: a machine below
# kubeadm's control-plane minimum (2 CPUs, 1700 MB: cmd/kubeadm/app/constants
# ControlPlaneNumCPU and ControlPlaneMem, as kubeadm's preflight applies them)
# is told to join as a worker instead. Its reading of /proc is checked against
# nproc and free on this machine; the thresholds on either side with /proc
# files as the kernel writes them (a Raspberry Pi 3: 4 CPUs, 906 MB).
set -eu
cd "$(dirname "$0")/.."
script=$PWD/board/common/rootfs-overlay/usr/libexec/b4k/control-plane-fits
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
no() { echo "FAIL: $*"; fail=1; }

# proc NAME CPUS_ALLOWED_LIST MEMTOTAL_KB: a /proc with those two lines.
proc() {
	mkdir -p "$tmp/$1/self"
	printf 'Name:\tsh\nCpus_allowed:\tf\nCpus_allowed_list:\t%s\nMems_allowed_list:\t0\n' "$2" >"$tmp/$1/self/status"
	printf 'MemTotal:       %s kB\nMemFree:          100000 kB\n' "$3" >"$tmp/$1/meminfo"
}
# expect NAME fits|worker
expect() {
	rc=0
	B4K_PROC=$tmp/$1 sh "$script" 2>"$tmp/$1.err" || rc=$?
	case $2 in
	fits) [ "$rc" -eq 0 ] || no "$1: refused: $(cat "$tmp/$1.err")" ;;
	worker)
		[ "$rc" -eq 1 ] || no "$1: accepted (exit $rc)"
		grep -q 'k8s-join' "$tmp/$1.err" || no "$1: the message does not say to join as a worker: $(cat "$tmp/$1.err")"
		;;
	esac
}

# This machine: the script's CPUs and MB against nproc and free.
cpus=$(nproc) mb=$(free -m | awk '/^Mem:/ { print $2 }')
if [ "$cpus" -ge 2 ] && [ "$mb" -ge 1700 ]; then want=0; else want=1; fi
rc=0
sh "$script" 2>"$tmp/host.err" || rc=$?
[ "$rc" -eq "$want" ] || no "this machine ($cpus CPUs by nproc, $mb MB by free): exit $rc, expected $want"
if [ "$rc" -ne 0 ]; then
	grep -q "has $cpus CPU(s) and $mb MB" "$tmp/host.err" || no "the message's figures differ from nproc/free: $(cat "$tmp/host.err")"
fi

proc pi3 0-3 928100
expect pi3 worker
proc onecpu 0 8000000
expect onecpu worker
proc below 0-1 1740799 # 1699 MB
expect below worker
proc at 0-1 1740800 # 1700 MB
expect at fits
proc sparse 0,2-3 2000000
expect sparse fits
proc pinned 3 4000000
expect pinned worker

[ "$fail" -eq 0 ] && echo "control-plane-fits: this machine ($cpus CPUs, $mb MB) and 6 /proc cases as expected"
exit "$fail"
