"""Runs one workload on Dask distributed for hq-files' comparison suite (bench/peers.ts).

Usage: python3 dask_run.py SPEC_JSON OUT_JSON

SPEC_JSON: {"tasks": N, "cmd": [...], "workers": W, "cwd": DIR, "localDir": DIR}.
A LocalCluster of W worker processes with one thread each (the scheduler runs in this
process), then N tasks that each run the command with subprocess.run in DIR. Writes to
OUT_JSON (keys in camelCase, as the TypeScript side reads them): makespanS (first submit to
last result), finishS (each task's completion as the client saw it), cpuS (this process's
CPU seconds during the run: scheduler and client), maxrssKb (its peak resident memory),
filesCreated (files under localDir that were not there before), failed (tasks whose
command exited non-zero).
"""

import json
import os
import resource
import signal
import subprocess
import sys
import time


def list_files(root):
    return {os.path.join(d, f) for d, _, files in os.walk(root) for f in files}


def run_task(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode


def main():
    spec_path, out_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = LocalCluster(n_workers=spec["workers"], threads_per_worker=1, processes=True,
                           dashboard_address=None, local_directory=spec["localDir"])
    client = Client(cluster)

    def stop(_signum, _frame):
        client.close()
        cluster.close()
        sys.exit(143)

    signal.signal(signal.SIGTERM, stop)
    try:
        client.wait_for_workers(spec["workers"])
        client.submit(run_task, ["true"], spec["cwd"], pure=False).result()
        cmd, cwd = spec["cmd"], spec["cwd"]
        files0 = list_files(spec["localDir"])
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.time()
        futures = client.map(run_task, [cmd] * spec["tasks"], [cwd] * spec["tasks"], pure=False)
        finish, failed = [], 0
        for fut in as_completed(futures):
            finish.append(time.time() - t0)
            failed += fut.result() != 0
        makespan = time.time() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        files1 = list_files(spec["localDir"])
        cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        with open(out_path, "w") as f:
            json.dump({"makespanS": makespan, "finishS": finish, "cpuS": cpu,
                       "maxrssKb": r1.ru_maxrss, "filesCreated": len(files1 - files0),
                       "failed": failed}, f)
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
