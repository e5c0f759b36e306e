#!/usr/bin/env python3
"""The step's host-memory account (docs/runtime.md, "Device memory") against what the process
really holds: for each step, accpar run's JSON host_memory_bytes must be at least the peak
resident memory the kernel reports for the process (wait4's ru_maxrss), and on the largest step
within a few times of it (an account that is not a wild over-estimate)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

# (arguments, whether the account must also be within LOOSE x the peak)
STEPS = [
    (["--net", "tiny-cnn", "--fidelity", "golden", "--jobs", "1"], False),
    (["--net", "tiny-cnn", "--fidelity", "golden", "--jobs", "2"], False),
    (["--net", "mlp", "--batch", "64", "--fidelity", "golden"], False),
    (["--net", "tiny-resnet", "--fidelity", "golden", "--jobs", "3"], False),
    (["--net", "alexnet", "--batch", "8", "--accels", "2xtpu-v2-full,2xtpu-v3-full",
      "--fidelity", "golden", "--image-scale", "0.5"], True),
    (["--net", "vgg16", "--batch", "8", "--accels", "4xtpu-v2-full,4xtpu-v3-full",
      "--fidelity", "golden", "--image-scale", "0.5"], True),
]
LOOSE = 3.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accpar", required=True)
    args = ap.parse_args()
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "r.json")
        for step, tight in STEPS:
            cmd = [args.accpar, "run"] + step + ["--json", report]
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(p.pid, 0)
            err = p.stderr.read().decode()
            p.stderr.close()
            if os.waitstatus_to_exitcode(status) != 0:
                bad.append(f"{' '.join(step)}: exit {status}: {err.strip()}")
                continue
            with open(report) as f:
                account = json.load(f)["host_memory_bytes"]
            peak = usage.ru_maxrss * 1024
            print(f"{' '.join(step)}: account {account / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB")
            if peak > account:
                bad.append(f"{' '.join(step)}: peak {peak} above the account {account}")
            if tight and account > LOOSE * peak:
                bad.append(f"{' '.join(step)}: account {account} above {LOOSE} x the peak {peak}")
    for b in bad:
        print("FAIL: " + b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
