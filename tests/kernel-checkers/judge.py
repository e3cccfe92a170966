"""Judges the peer checkers' reports on a board's kernel configuration against
board/common/kernel-requirements.toml (tests/check-kernel-checkers.sh):

  judge.py coverage REQUIREMENTS CHECK_CONFIG_SH
      every option docker's check-config.sh can ask for is required by a group
      or [[excluded]] with a reason;
  judge.py docker REQUIREMENTS BOARD REPORT
      check-config.sh's report: no "Generally Necessary" option missing, every
      other missing option excluded, no legacy vsyscall mode it warns about;
  judge.py kubeadm REQUIREMENTS BOARD REPORT
      the validator's report (kernel-validator): nothing "bad", every "warn"
      excluded.

Prints one summary line (and the offending options); exits 1 on a failure.
"""

import re
import sys
import tomllib


def load(path):
    """(names required by any group, {excluded name: reason})."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    required = set()
    for group in data["group"]:
        for option in group["options"]:
            required.add(option.split("=")[0].removeprefix("CONFIG_"))
    excluded = {}
    for entry in data.get("excluded", []):
        for option in entry["options"]:
            excluded[option] = entry["reason"]
    return required, excluded


def findings(problems):
    """Prints each problem, indented; True when there is none."""
    for p in problems:
        print(f"  {p}")
    return not problems


def asked_by(script):
    """Every option check-config.sh names in a check_flags call ($netprio: both
    of the names it assigns)."""
    text = open(script).read().replace("\\\n", " ")
    names = set()
    for line in text.splitlines():
        m = re.match(r"\s*check_flags\s+(.*?)(\||$)", line)
        if not m:
            continue
        for word in m.group(1).split():
            if word == "$netprio":
                names.update(re.findall(r"netprio=([A-Z0-9_]+)", text))
            elif re.fullmatch(r"[A-Z0-9_]+", word):
                names.add(word)
    return names


def coverage(reqs, script):
    required, excluded = load(reqs)
    asked = asked_by(script)
    missing = sorted(asked - required - set(excluded))
    print(
        f"check-config.sh names {len(asked)} options: "
        f"{len(asked & required)} required, {len(asked & set(excluded))} excluded"
    )
    for name in missing:
        print(f"  CONFIG_{name}: asked for by check-config.sh, neither required nor excluded in {reqs}")
    return not missing


def docker(reqs, board, report):
    _, excluded = load(reqs)
    section, rows = None, []
    for line in open(report, errors="replace"):
        line = line.strip()
        if line in ("Generally Necessary:", "Optional Features:"):
            section = line.split()[0].lower()
        elif line == "Limits:":
            section = None
        m = re.search(r"CONFIG_([A-Z0-9_]+): (enabled \(as module\)|enabled|missing)", line)
        if m and section:
            rows.append((section, m.group(1), m.group(2)))
    necessary = [r for r in rows if r[0] == "generally"]
    optional = [r for r in rows if r[0] == "optional"]
    bad_vsyscall = [n for s, n, v in optional if n in ("LEGACY_VSYSCALL_NATIVE", "LEGACY_VSYSCALL_NONE")]
    optional = [r for r in optional if r[1] not in bad_vsyscall]
    nec_missing = [n for _, n, v in necessary if v == "missing"]
    opt_missing = [n for _, n, v in optional if v == "missing"]
    modules = [n for _, n, v in rows if v != "missing" and "module" in v]
    not_excluded = [n for n in opt_missing if n not in excluded]
    print(
        f"docker check-config.sh on {board}: necessary {len(necessary) - len(nec_missing)}/{len(necessary)}, "
        f"optional {len(optional) - len(opt_missing)}/{len(optional)}, {len(modules)} as modules; "
        f"optional missing: {' '.join(opt_missing) or 'none'}"
    )
    return findings(
        ([] if necessary else [f"no 'Generally Necessary' section in {report}"])
        + [f"CONFIG_{n}: necessary, missing" for n in nec_missing]
        + [f"CONFIG_{n}: optional, missing, and not excluded in {reqs}" for n in not_excluded]
        + [f"CONFIG_{n}: enabled; check-config.sh warns against it" for n in bad_vsyscall]
    )


def kubeadm(reqs, board, report):
    _, excluded = load(reqs)
    rows = []
    for line in open(report):
        m = re.match(r"CONFIG_([A-Z0-9_]+) (good|bad|warn) ", line)
        if m:
            rows.append((m.group(1), m.group(2)))
    bad = [n for n, r in rows if r == "bad"]
    warn = [n for n, r in rows if r == "warn"]
    not_excluded = [n for n in warn if n not in excluded]
    print(
        f"kubeadm's validator on {board}: {len(rows)} options, {len(rows) - len(bad) - len(warn)} good, "
        f"required missing: {' '.join(bad) or 'none'}, optional missing: {' '.join(warn) or 'none'}"
    )
    return findings(
        ([] if rows else [f"no option in {report}"])
        + [f"CONFIG_{n}: required by kubeadm, missing" for n in bad]
        + [f"CONFIG_{n}: optional for kubeadm, missing, and not excluded in {reqs}" for n in not_excluded]
    )


def main(argv):
    cmd, args = argv[1], argv[2:]
    ok = {"coverage": coverage, "docker": docker, "kubeadm": kubeadm}[cmd](*args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
