#!/bin/sh
# Boots a QEMU command line and waits for the test rootfs's marker on the serial
# console:   boot.sh NAME TIMEOUT_SECONDS LOG qemu-system-... ARGS...
# The serial console goes to LOG (append "-serial file:LOG" is done here).
# QEMU is killed as soon as the marker appears. On failure (timeout, QEMU exit
# without the marker, or the initramfs' failure marker) prints the serial log
# and the exact command line; exits 1.
set -eu

name=$1
timeout=$2
log=$3
shift 3
marker=B4K-ROOTFS-REACHED
: > "$log"
start=$(date +%s)
"$@" -display none -monitor none -serial "file:$log" </dev/null >"$log.qemu" 2>&1 &
qemu=$!
result=timeout
while :; do
	if grep -q "$marker" "$log"; then
		result=ok
		break
	fi
	if grep -q B4K-INITRD-FAILED "$log"; then
		result="initramfs failure"
		break
	fi
	if ! kill -0 "$qemu" 2>/dev/null; then
		grep -q "$marker" "$log" && result=ok || result="QEMU exited"
		break
	fi
	[ $(($(date +%s) - start)) -ge "$timeout" ] && break
	sleep 1
done
elapsed=$(($(date +%s) - start))
kill "$qemu" 2>/dev/null || true
wait "$qemu" 2>/dev/null || true
if [ "$result" = ok ]; then
	echo "$name: marker '$(grep -o "$marker.*" "$log" | head -n 1 | tr -d '\r')' after ${elapsed}s"
	exit 0
fi
echo "$name: FAILED ($result after ${elapsed}s, timeout ${timeout}s)"
echo "--- serial console ($log):"
cat "$log"
echo "--- qemu output:"
cat "$log.qemu"
echo "--- command line:"
for a in "$@" -display none -monitor none -serial "file:$log"; do
	printf "'%s' " "$a"
done
echo
exit 1
