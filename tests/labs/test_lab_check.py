#!/usr/bin/python3
"""The lab checker's refusals: a malformed answers file, an unknown lab or question, a missing
program: exit status 2 and one line on stderr naming the file, line and field.

  tests/labs/test_lab_check.py --build DIR
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.path.join(ROOT, "scripts", "lab-check")


def main(build):
    failures = 0
    with tempfile.TemporaryDirectory() as work:
        cases = [  # (lab, answers text or None for a missing file, what the one line names)
            ("1", "commands = 9\ncommands = 9\n", ["answers:2:", "'commands'", "twice"]),
            ("1", "commands = nine\n", ["answers:1:", "'commands'", "not a number"]),
            ("1", "commands 9\n", ["answers:1:", "name = value"]),
            ("1", "# fine\nload_w_cycles = 6\nbogus = 1\n", ["answers:3:", "'bogus'"]),
            ("1", "commands = nan\n", ["answers:1:", "finite"]),
            ("1", None, ["answers", "cannot read"]),
            ("7", "commands = 9\n", ["lab '7'"]),
        ]
        for lab, text, names in cases:
            path = os.path.join(work, "answers")
            if os.path.exists(path):
                os.remove(path)
            if text is not None:
                with open(path, "w") as f:
                    f.write(text)
            run = subprocess.run([CHECK, lab, path, "--accpar", os.path.join(build, "accpar")],
                                 capture_output=True, text=True)
            err = run.stderr
            if run.returncode != 2 or err.count("\n") != 1 or run.stdout or \
                    any(n not in err for n in names):
                print(f"FAIL {lab} {text!r}: status {run.returncode}, stderr {err!r}, "
                      f"stdout {run.stdout!r}; wanted status 2 and one line naming {names}")
                failures += 1
        run = subprocess.run([CHECK, "1", path, "--accpar", os.path.join(work, "none")],
                             capture_output=True, text=True)
        if run.returncode != 2 or "no accpar program" not in run.stderr:
            print(f"FAIL missing program: {run.returncode} {run.stderr!r}")
            failures += 1
    print(f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--build":
        print(__doc__.strip())
        sys.exit(2)
    sys.exit(main(os.path.abspath(sys.argv[2])))
