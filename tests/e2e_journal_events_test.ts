/**
 * `hq journal stream|replay|export|prune|flush` on this project's journal,
 * printed as HyperQueue prints its events (one JSON object per line).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, HQ_TS, waitFor } from "./_harness.ts";

interface EventLine {
  time: string;
  event: { type: string; job?: number; task?: number; id?: number; reason?: string };
}

function parse(text: string): EventLine[] {
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as EventLine);
}

function types(events: EventLine[]): string[] {
  return events.map((e) => e.event.type);
}

Deno.test("e2e: journal stream, replay, export, prune and flush", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    const worker = c.startWorker(["--cpus", "1"]);
    await c.waitWorkers(1);
    const out = join(c.workDir, "stream.out");
    // The stream writes to a file through the shell: `exec` keeps the pid the stream's.
    const stream = new Deno.Command("bash", {
      args: [
        "-c",
        'exec "$0" run -A "$1" journal stream --server-dir "$2" > "$3"',
        Deno.execPath(),
        HQ_TS,
        c.serverDir,
        out,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await waitFor(
        async () => (await Deno.readTextFile(out)).includes("worker-connected"),
        15000,
        "the stream started",
      );
      const ok = await c.submit(["--array", "1-2", "--", "true"]);
      const bad = await c.submit(["--", "/nonexistent/program"]);
      await c.waitJobComplete(ok);
      await c.waitJobComplete(bad);
      const replay = parse((await c.hqOk(["journal", "replay"])).stdout);
      assert.equal(replay[0]!.event.type, "server-start");
      for (const t of ["worker-connected", "job-created", "task-started", "task-finished"]) {
        assert.ok(types(replay).includes(t), `${t} in ${types(replay)}`);
      }
      const failed = replay.find((e) => e.event.type === "task-failed");
      assert.deepEqual([failed?.event.job, failed?.event.task], [bad, 0]);
      assert.equal(types(replay).filter((t) => t === "job-completed").length, 2);
      const times = replay.map((e) => Date.parse(e.time));
      assert.deepEqual(times, [...times].sort((a, b) => a - b), "in time order");
      // The stream told the same, live.
      await waitFor(
        async () =>
          types(parse(await Deno.readTextFile(out))).filter((t) => t === "job-completed").length ===
            2,
        15000,
        "both completions streamed",
      );
      const streamed = parse(await Deno.readTextFile(out));
      const finishes = streamed.filter((e) => e.event.type === "task-finished");
      assert.deepEqual(finishes.map((e) => e.event.task).sort(), [1, 2], "each told once");
      assert.equal((await c.hq(["journal", "flush"])).code, 0);
      // The worker ends: prune drops it and both completed jobs.
      worker.kill("SIGTERM");
      await worker.status;
      await waitFor(
        async () => types(parse(await Deno.readTextFile(out))).includes("worker-lost"),
        15000,
        "worker-lost streamed",
      );
      assert.equal((await c.hq(["journal", "prune"])).code, 0);
      assert.deepEqual(await c.json<unknown[]>(["job", "list", "--all"]), []);
      assert.deepEqual(await c.json<unknown[]>(["worker", "list", "--all"]), []);
      await c.hqOk(["server", "stop"]);
      assert.equal((await stream.status).code, 0, "the stream ends with the server");
    } finally {
      try {
        stream.kill("SIGKILL");
      } catch { /* ended */ }
      await stream.status;
    }
    // Export reads the journal offline: pruned, so only the server's start is left.
    const exported = await c.hq(["journal", "export", join(c.serverDir, "001", "journal")]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual(types(parse(exported.stdout)), ["server-start"]);
    assert.match(exported.stderr, /Outputted 1 event$/m);
    const missing = await c.hq(["journal", "export", join(c.workDir, "none")]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Cannot open event log file at `.*none`: no journal there/);
  });
});
