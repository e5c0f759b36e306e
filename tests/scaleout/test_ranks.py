#!/usr/bin/env python3
"""Runs spread over MPI ranks (docs/scale-out.md), on this machine with mpirun --oversubscribe.

Each --case is one ctest entry. The reference for every multi-rank run is the same command run as
one process: its JSON report (minus the "ranks" object) and its text report (minus the "ranks:"
line) must be byte-identical. Fault cases use the program built with the cluster's test-only fault
injection (ACCPAR_TEST_CLUSTER_FAULT) and check that the job ends, non-zero, within a bound, with
a line naming the rank and what went wrong."""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ARGS = None
TMP = None
# rank 0 gives up on a silent rank after this many seconds in the fault cases
TIMEOUT_S = 3
# a failing job must be over within this many seconds (the timeout plus start-up and tear-down)
BOUND_S = 40


def mpi_env(extra=None):
    e = dict(os.environ)
    # Open MPI refuses root without these; tests run as root in CI containers
    e.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    # in the sanitizer build: under mpirun LeakSanitizer reports Open MPI's and SystemC's
    # allocations that outlive MPI_Finalize, with stacks too short to suppress by library, so
    # leak checks are off for multi-rank runs (AddressSanitizer's other checks and UBSan stay on;
    # the one-process runs keep leak checks)
    e["ASAN_OPTIONS"] = ":".join(filter(None, [e.get("ASAN_OPTIONS"), "detect_leaks=0"]))
    e.update(extra or {})
    return e


def mpirun(np_args, extra_env=None, wall=300):
    """np_args: the argument list after mpirun's own options (-np R PROGRAM ARGS [: ...])."""
    cmd = [ARGS.mpirun, "--oversubscribe"] + np_args
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, env=mpi_env(extra_env), timeout=wall)
    return p, time.monotonic() - t0


def single(args, wall=300):
    return subprocess.run([ARGS.accpar] + args, capture_output=True, text=True, timeout=wall)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def report_without_ranks(json_path, text):
    with open(json_path) as f:
        doc = json.load(f)
    ranks = doc.pop("ranks")
    # the host-memory account grows with the process's --jobs, which ranks share a machine's
    # cores by; the figures of the step are what must not change
    doc.pop("host_memory_bytes")
    lines = [l for l in text.splitlines() if not l.startswith("ranks: ")]
    return json.dumps(doc, sort_keys=True), "\n".join(lines), ranks


def blocks(n, ranks):
    """The documented default placement, computed here independently of the program."""
    return [next(r for r in range(ranks) if r * n // ranks <= d < (r + 1) * n // ranks)
            for d in range(n)]


def same_as_one_process(args, np, placement=None, label=""):
    """Runs args as one process and on np ranks; both reports must agree, apart from ranks."""
    one_json, many_json = os.path.join(TMP, "one.json"), os.path.join(TMP, "many.json")
    args = ["run"] + args
    p1 = single(args + ["--json", one_json])
    if p1.returncode != 0:
        fail(f"{label}: one process: status {p1.returncode}: {p1.stderr.strip()}")
    extra = ["--placement", ",".join(map(str, placement))] if placement else []
    pm, _ = mpirun(["-np", str(np), ARGS.accpar] + args + extra + ["--json", many_json])
    if pm.returncode != 0:
        fail(f"{label}: {np} ranks: status {pm.returncode}: {pm.stderr.strip()[:2000]}")
    j1, t1, r1 = report_without_ranks(one_json, p1.stdout)
    jm, tm, rm = report_without_ranks(many_json, pm.stdout)
    if j1 != jm:
        fail(f"{label}: {np} ranks: the JSON report differs from one process's")
    if t1 != tm:
        fail(f"{label}: {np} ranks: the text report differs from one process's")
    n = len(json.loads(j1)["devices"])
    want = placement or blocks(n, np)
    if r1["count"] != 1 or rm["count"] != np or rm["placement"] != want:
        fail(f"{label}: ranks field {rm}, expected count {np} and placement {want}")
    # devices away from rank 0 mean real payloads crossed the ranks
    if any(r != 0 for r in want) and rm["payload_bytes"] == 0:
        fail(f"{label}: devices on other ranks, yet no payload bytes were exchanged")
    if "ranks: %d (devices on ranks %s)" % (np, ",".join(map(str, want))) not in pm.stdout:
        fail(f"{label}: the text report's ranks line is missing or wrong")
    print(f"ok: {label}, {np} ranks, placement {want}, {rm['payload_bytes']} payload bytes")


def case_same_report():
    for net in ("mlp", "tiny-cnn", "tiny-resnet"):
        for fidelity in ("rtl", "replay"):
            for np in (2, 3):
                same_as_one_process(["--net", net, "--fidelity", fidelity], np,
                                    label=f"{net} {fidelity}")


def case_placement_splits_groups():
    # tiny-cnn's plan splits 2xtpu-v2,2xtpu-v3 into groups {0,1} and {2,3}: these placements cut
    # every group across ranks, so its reductions and conversions cross ranks
    for placement, np in (([0, 1, 0, 1], 2), ([1, 0, 0, 1], 2), ([2, 0, 1, 2], 3)):
        same_as_one_process(["--net", "tiny-cnn", "--fidelity", "rtl"], np, placement,
                            label="tiny-cnn rtl")
    same_as_one_process(["--net", "tiny-resnet", "--fidelity", "replay", "--accels",
                         "2xtpu-v2,1xtpu-v3,3xtiny"], 3, [0, 2, 1, 1, 0, 2],
                        label="tiny-resnet on 6 devices")


def case_rank_without_devices():
    same_as_one_process(["--net", "mlp", "--fidelity", "replay", "--accels",
                         "1xtpu-v2,1xtpu-v3"], 3, label="mlp on 2 devices")
    same_as_one_process(["--net", "tiny-cnn", "--fidelity", "replay"], 2, [1, 1, 1, 1],
                        label="tiny-cnn, none on rank 0")


def case_calibrate():
    for np in (2, 3):
        outs = []
        for ranks in (1, np):
            cal = os.path.join(TMP, f"c{ranks}.cal")
            args = ["calibrate", "--accel", "tpu-v2", "--out", cal]
            p = (single(args) if ranks == 1 else
                 mpirun(["-np", str(ranks), ARGS.accpar] + args)[0])
            if p.returncode != 0:
                fail(f"calibrate on {ranks} ranks: status {p.returncode}: {p.stderr.strip()}")
            with open(cal) as f:
                outs.append(f.read())
        if outs[0] != outs[1]:
            fail(f"calibrate: the calibration file on {np} ranks differs from one process's")
        print(f"ok: calibrate --accel tpu-v2 on {np} ranks: the same calibration file")
    outs = []
    for ranks in (1, 2):
        path = os.path.join(TMP, f"k{ranks}.json")
        args = ["calibrate", "--compare", "tiny-cnn", "--fidelity", "rtl", "--json", path]
        p = single(args) if ranks == 1 else mpirun(["-np", "2", ARGS.accpar] + args)[0]
        if p.returncode != 0:
            fail(f"calibrate --compare on {ranks} ranks: {p.stderr.strip()}")
        with open(path) as f:
            outs.append((f.read(), p.stdout))
    if outs[0] != outs[1]:
        fail("calibrate --compare: the report on 2 ranks differs from one process's")
    print("ok: calibrate --compare tiny-cnn on 2 ranks: the same report")


def expect_failure(args_np, pattern, label, extra_env=None, status=None):
    """The job must end non-zero (status, if given) within BOUND_S with a line matching
    pattern."""
    p, wall = mpirun(args_np, extra_env, wall=BOUND_S * 3)
    out = p.stdout + p.stderr
    if p.returncode == 0:
        fail(f"{label}: the job succeeded")
    if status is not None and p.returncode != status:
        fail(f"{label}: status {p.returncode}, expected {status}:\n{out[-3000:]}")
    if wall > BOUND_S:
        fail(f"{label}: the job took {wall:.1f} s to end (bound {BOUND_S} s)")
    lines = [l for l in out.splitlines() if re.search(pattern, l)]
    if not lines:
        fail(f"{label}: no line matches {pattern!r} in:\n{out[-3000:]}")
    print(f"ok: {label}: status {p.returncode} after {wall:.1f} s: {lines[0]}")


def faulty_run(fault, net="tiny-cnn", fidelity="replay"):
    return (["-np", "2", ARGS.faults, "run", "--net", net, "--fidelity", fidelity,
             "--rank-timeout", str(TIMEOUT_S)],
            {"ACCPAR_TEST_CLUSTER_FAULT": fault})


def case_lost_message():
    # the faults program runs clean without a fault: the injection is what fails the cases below
    same_faults = mpirun(faulty_run("none")[0], {})[0]
    if same_faults.returncode != 0:
        fail("the fault-injection program fails without a fault: " + same_faults.stderr)
    # a lost message is named by its receiver when the next one comes out of sequence, or by
    # rank 0 when it hears nothing for --rank-timeout seconds
    lost = (r"accpar run: (.*: )?rank \d: (message \d+ from rank \d never arrived|no message from "
            r"rank 1 for 3 s while waiting for .* \((message \d+ or its answer|a message) was "
            r"lost)")
    # k7: rank 0's end of the step; k8: rank 1's first status answer (run_remote.c's kinds)
    for fault in ("drop:1:1", "drop:1:2", "drop:1:5", "drop:0:2", "drop:0:3", "drop:0:9",
                  "drop:0:k7", "drop:1:k8"):
        args, e = faulty_run(fault)
        expect_failure(args, lost, f"lost {fault}", e)


def case_corrupted_message():
    for fault in ("corrupt:1:1", "corrupt:1:2", "corrupt:1:4", "corrupt:1:k8"):
        args, e = faulty_run(fault)
        expect_failure(args, r"accpar run: (.*: )?rank 0: message \d+ from rank 1 \(.*\) arrived "
                       r"corrupted", f"damaged {fault}", e)
    for fault in ("corrupt:0:1", "corrupt:0:3", "corrupt:0:8", "corrupt:0:k7"):
        args, e = faulty_run(fault)
        expect_failure(args, r"accpar run: (.*: )?rank 1: message \d+ from rank 0 \(.*\) arrived "
                       r"corrupted", f"damaged {fault}", e)


def case_wrong_result():
    # a result damaged before it is sent (as a faulty device would compute it): the checksum
    # holds, verification fails on rank 0 and names the device; every rank exits 1
    for fault in ("flip:1:k10", "flip:2:k10"):
        args, e = faulty_run(fault)
        args[1] = "3"
        expect_failure(args, r"^verification: FAILED: layer .* vs OpenBLAS: .* \(held by device "
                       r"\d\)", f"wrong result {fault}", e, status=1)


def case_killed_rank():
    for fault, fidelity in (("kill:1:3", "replay"), ("kill:1:2", "rtl"), ("kill:0:4", "replay")):
        args, e = faulty_run(fault, fidelity=fidelity)
        rank = fault.split(":")[1]
        expect_failure(args, rf"rank {rank} .*exited on signal 9", f"killed {fault}", e)


def case_bad_input_on_one_rank():
    run = ["run", "--fidelity", "replay"]
    expect_failure(["-np", "1", ARGS.accpar] + run + [":", "-np", "1", "-x",
                    "ACCPAR_MODELS_DIR=/nonexistent", ARGS.accpar] + run,
                   r"^accpar run: rank 1: --accels: unknown preset 'tpu-v2'",
                   "models missing on rank 1")
    plan = os.path.join(TMP, "only-here.plan")
    expect_failure(["-np", "2", ARGS.accpar, "run", "--plan", plan],
                   rf"^accpar run: .*{re.escape(plan)}", "a plan file nobody has")
    expect_failure(["-np", "2", ARGS.accpar, "run", "--net", "tiny-cnn", "--fidelity", "replay",
                    "--device-mib", "1"], r"^accpar run: .*(device|memory)",
                   "devices too small on every rank")


def case_different_build():
    run = ["run", "--fidelity", "replay"]
    expect_failure(["-np", "1", ARGS.accpar] + run + [":", "-np", "1", ARGS.faults] + run,
                   r"^accpar: rank 1: not the same build \(the accpar program\) as rank 0",
                   "another program on rank 1")
    expect_failure(["-np", "1", ARGS.accpar] + run + [":", "-np", "1", ARGS.accpar] + run +
                   ["--seed", "2"],
                   r"^accpar run: rank 1: not the same inputs \(.*\) as rank 0", "another seed")


def case_only_run_and_calibrate():
    expect_failure(["-np", "2", ARGS.accpar, "plan"],
                   r"^accpar plan: runs as one process: under mpirun only run and calibrate",
                   "plan under mpirun")
    expect_failure(["-np", "2", ARGS.accpar, "run", "--trace", os.path.join(TMP, "trace")],
                   r"^accpar run: --trace: the waveforms are written by one-process runs only",
                   "waveforms over ranks")
    expect_failure(["-np", "2", ARGS.accpar, "run", "--placement", "0,1,2,0"],
                   r"^accpar run: --placement: '0,1,2,0'", "a placement on a rank not there")
    p = single(["run", "--placement", "0,0,0,0"])
    if p.returncode != 2 or "--placement: only under mpirun" not in p.stderr:
        fail("--placement without mpirun: " + p.stderr)
    print("ok: --placement without mpirun refused")


CASES = {
    "SameReportAsOneProcess": case_same_report,
    "PlacementSplitsGroups": case_placement_splits_groups,
    "RankWithoutDevices": case_rank_without_devices,
    "CalibrateOnRanks": case_calibrate,
    "LostMessageIsNamed": case_lost_message,
    "CorruptedMessageIsNamed": case_corrupted_message,
    "WrongResultFailsVerification": case_wrong_result,
    "KilledRankEndsTheJob": case_killed_rank,
    "BadInputOnOneRank": case_bad_input_on_one_rank,
    "DifferentBuildIsRefused": case_different_build,
    "OnlyRunAndCalibrate": case_only_run_and_calibrate,
}


def main():
    global ARGS, TMP
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--accpar", required=True)
    ap.add_argument("--faults", required=True, help="accpar with the cluster's fault injection")
    ap.add_argument("--mpirun", required=True)
    ARGS = ap.parse_args()
    base = os.environ.get("TEST_TMPDIR") or None
    if base:
        os.makedirs(base, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base) as d:
        TMP = d
        CASES[ARGS.case]()


if __name__ == "__main__":
    main()
