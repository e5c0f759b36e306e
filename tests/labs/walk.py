#!/usr/bin/python3
"""Walks every lab of docs/labs/ as a student would, so the labs never rot: runs each ```sh
block of the page as one bash script, in order (in a scratch folder that sees the checkout and
the build like the top folder), then the checker with the reference solution
tests/labs/labN.answers (every answer and every check of the checker must pass) and with
tests/labs/labN-wrong.answers (every answer must fail, with a hint), and checks that the page
names every question. Labs that change the product (PATCHES) run on a copy of the checkout
with the reference change applied and built. Prints each step's wall time.

  tests/labs/walk.py --build DIR [--lab N]
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fail(msg):
    print(f"walk: {msg}", file=sys.stderr)
    sys.exit(1)


def sh_blocks(page):
    with open(page, encoding="utf-8") as f:
        return re.findall(r"^```sh\n(.*?)^```", f.read(), re.S | re.M)


def answer_names(path):
    with open(path, encoding="utf-8") as f:
        return [l.split("#")[0].split("=")[0].strip() for l in f if l.split("#")[0].strip()]


def timed(cmd, cwd, env):
    start = time.monotonic()
    run = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True)
    return run, time.monotonic() - start


# Labs that change the product run on a copy of the checkout with the lab's reference change
# applied and built: lab 2 changes the RTL and the contract, lab 4 calibrates lab 2's design.
PATCHES = {2: "lab2.patch", 4: "lab2.patch"}


TREES = {}  # patch -> its built copy, made once per walk


def patched_tree(patch, scratch):
    """A copy of the checkout with tests/labs/PATCH applied, built (accpar, host_tests) in its
    build/ folder; made once per patch."""
    if patch in TREES:
        return TREES[patch]
    src = os.path.join(scratch, patch + ".tree")
    files = subprocess.run(["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard", "-z"],
                           capture_output=True, text=True)
    if files.returncode != 0:
        fail("the patched labs need a git checkout (to copy it)")
    for name in filter(None, files.stdout.split("\0")):
        dst = os.path.join(src, name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, name), dst)
    steps = [["patch", "-p1", "-i", os.path.join(ROOT, "tests", "labs", patch)],
             ["cmake", "-S", ".", "-B", "build", "-DCMAKE_BUILD_TYPE=Release"],
             ["cmake", "--build", "build", "-j2", "--target", "accpar", "host_tests"]]
    for cmd in steps:
        run, secs = timed(" ".join(cmd), src, dict(os.environ))
        print(f"{patch}: {secs:6.1f} s  {' '.join(cmd[:3])} ...")
        if run.returncode != 0:
            fail(f"{patch}: {' '.join(cmd)} failed: {run.stdout[-2000:]}{run.stderr[-2000:]}")
    TREES[patch] = src
    return src


def walk(lab, page, build, scratch):
    with tempfile.TemporaryDirectory() as work:
        if lab in PATCHES:
            work = patched_tree(PATCHES[lab], scratch)
            page = os.path.join(work, os.path.relpath(page, ROOT))
        else:
            for name in ("docs", "models", "rtl", "scripts", "tests"):
                os.symlink(os.path.join(ROOT, name), os.path.join(work, name))
            os.symlink(build, os.path.join(work, "build"))
        env = dict(os.environ, ACCPAR=os.path.join(work, "build", "accpar"))
        for block in sh_blocks(page):
            run, secs = timed("set -e\n" + block, work, env)
            first = block.splitlines()[0] + (" ..." if block.count("\n") > 1 else "")
            print(f"lab {lab}: {secs:6.1f} s  {first}")
            if run.returncode != 0:
                fail(f"lab {lab}: block '{first}' exited {run.returncode}: "
                     f"{run.stderr.strip()}")
        right = os.path.join(ROOT, "tests", "labs", f"lab{lab}.answers")
        wrong = os.path.join(ROOT, "tests", "labs", f"lab{lab}-wrong.answers")
        for path in (right, wrong):
            if not os.path.isfile(path):
                fail(f"lab {lab}: {path} is missing")
        run, secs = timed(f"scripts/lab-check {lab} {right}", work, env)
        print(f"lab {lab}: {secs:6.1f} s  scripts/lab-check {lab} (reference solution)")
        lines = run.stdout.strip().splitlines()
        if run.returncode != 0 or not lines or any(not l.startswith("PASS") for l in lines[:-1]):
            fail(f"lab {lab}: the reference solution does not pass:\n{run.stdout}{run.stderr}")
        asked = answer_names(right)
        with open(page, encoding="utf-8") as f:
            text = f.read()
        for q in asked:
            if f"`{q}`" not in text:
                fail(f"lab {lab}: the checker asks `{q}`, which {page} does not name")
        run, _ = timed(f"scripts/lab-check {lab} {wrong}", work, env)
        lines = run.stdout.strip().splitlines()
        # every answer fails with a hint (the checker's own checks of the tree may pass)
        marked = {l.split()[1].rstrip(":"): l for l in lines[:-1] if len(l.split()) > 1}
        bad = [q for q in asked if not (marked.get(q, "").startswith("FAIL") and
                                        "hint:" in marked[q])]
        if run.returncode != 1 or bad:
            fail(f"lab {lab}: every wrong answer must fail with a hint:\n{run.stdout}"
                 f"{run.stderr}")
        print(f"lab {lab}: {len(asked)} questions; the reference passes, each wrong answer "
              "fails with a hint")


def main(argv):
    args = dict(zip(argv[::2], argv[1::2]))
    if "--build" not in args or len(argv) % 2 or set(args) - {"--build", "--lab"}:
        print(__doc__.strip())
        return 2
    build = os.path.abspath(args["--build"])
    if not os.access(os.path.join(build, "accpar"), os.X_OK):
        fail(f"{build}/accpar is not built")
    pages = sorted(glob.glob(os.path.join(ROOT, "docs", "labs", "lab[0-9]*-*.md")))
    if not pages:
        fail("no labs in docs/labs")
    with tempfile.TemporaryDirectory() as scratch:
        for page in pages:
            lab = int(re.match(r"lab(\d+)-", os.path.basename(page)).group(1))
            if "--lab" in args and str(lab) != args["--lab"]:
                continue
            walk(lab, page, build, scratch)
    return 0


if __name__ == "__main__":
    if not shutil.which("bash"):
        fail("bash is needed")
    sys.exit(main(sys.argv[1:]))
