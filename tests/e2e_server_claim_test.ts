/**
 * One server per instance: of several `hq server start` racing for a
 * crashed server's instance, a fresh directory or a cleanly stopped one,
 * exactly one runs and the others exit with one line; a server whose lease
 * another server overwrote stops itself at once; a broken or missing newest
 * journal is refused rather than replaced by an empty state.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, type Proc, waitFor } from "./_harness.ts";

const RACERS = 4;
const REFUSED =
  /Cannot start server at ".*": (a server is already running there|another server .*is taking over its instance|another server started there at the same time)/;

/** Starts `RACERS` servers at once; waits until all but one exited; returns the one left. */
async function race(c: Cluster): Promise<Proc> {
  const procs = Array.from({ length: RACERS }, () => c.startServer());
  await waitFor(
    () => procs.filter((p) => p.exited).length >= RACERS - 1,
    30000,
    `${RACERS - 1} of ${RACERS} racing servers to give up`,
  );
  // A second winner would show within a few lease intervals.
  await new Promise((r) => setTimeout(r, 2000));
  const running = procs.filter((p) => !p.exited);
  assert.equal(running.length, 1, "exactly one server runs");
  for (const p of procs.filter((p) => p.exited)) {
    assert.notEqual(p.exited!.code, 0, `${p.name} exited non-zero`);
    assert.match(p.log, REFUSED, `${p.name} says why`);
  }
  await c.waitServerReady();
  const info = await c.json<{ server_pid?: number; pid?: number }>(["server", "info"]);
  const pid = info.server_pid ?? info.pid;
  assert.equal(pid, running[0]!.pid, "the server that runs is the one the directory names");
  return running[0]!;
}

function instances(dir: string): string[] {
  return [...Deno.readDirSync(dir)].filter((e) => /^\d+$/.test(e.name)).map((e) => e.name)
    .sort();
}

Deno.test("e2e: of 4 servers started at once on a killed server's instance, exactly one runs", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const first = c.startServer();
    await c.waitServerReady();
    assert.equal(await c.submit(["--", "true"]), 1);
    first.kill("SIGKILL");
    await first.status;
    await race(c);
    assert.deepEqual(instances(c.serverDir), ["001"], "the instance was taken over");
    assert.deepEqual((await c.jobs()).map((j) => j.id), [1]);
  });
});

Deno.test("e2e: of 4 servers started at once on a fresh directory, exactly one runs", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    await race(c);
    assert.equal(instances(c.serverDir).length, 1, "the losers removed their instances");
    assert.equal(await c.submit(["--", "true"]), 1);
  });
});

Deno.test("e2e: of 4 servers started at once on a cleanly stopped directory, one runs and job ids go on", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const first = c.startServer();
    await c.waitServerReady();
    assert.equal(await c.submit(["--", "true"]), 1);
    await c.hqOk(["server", "stop"]);
    assert.equal((await first.status).code, 0);
    await race(c);
    // The winner's number depends on the race; the losers removed theirs.
    const all = instances(c.serverDir);
    assert.equal(all.length, 2);
    assert.equal(all[0], "001");
    assert.equal(Deno.readLinkSync(join(c.serverDir, "hq-current")), all[1]);
    assert.equal(await c.submit(["--", "true"]), 2, "the journal was carried over");
  });
});

Deno.test("e2e: a server whose lease another server wrote stops at once", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const server = c.startServer();
    await c.waitServerReady();
    const leasePath = join(c.serverDir, "001", "lease");
    const mine = JSON.parse(await Deno.readTextFile(leasePath));
    const other = { ...mine, host: "login-elsewhere", pid: 4242, startedAt: Date.now(), seq: 1 };
    delete other.process;
    const tmp = `${leasePath}.test.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(other));
    await Deno.rename(tmp, leasePath);
    const status = await Promise.race([
      server.status,
      new Promise<null>((r) => setTimeout(() => r(null), 10000)),
    ]);
    assert.ok(status, "the server stopped");
    assert.equal(status.code, 1);
    assert.match(
      server.log,
      /lost the instance: another server \(host login-elsewhere, pid 4242\) took over the instance/,
    );
    const after = JSON.parse(await Deno.readTextFile(leasePath));
    assert.equal(after.pid, 4242, "the lost server did not write the lease again");
  });
});

Deno.test("e2e: a broken or missing journal in the newest instance is refused, not replaced by an empty state", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const first = c.startServer();
    await c.waitServerReady();
    await c.submit(["--", "true"]);
    await c.hqOk(["server", "stop"]);
    await first.status;
    const data = join(c.serverDir, "001", "journal", "data.mdb");
    await Deno.writeTextFile(data, "garbage, not a journal\n".repeat(100));
    const broken = await c.hq(["server", "start"]);
    assert.equal(broken.code, 1);
    const lines = broken.stderr.split("\n").filter((l) => l !== "" && !/^\S+Z INFO /.test(l));
    assert.deepEqual(lines, [
      `Cannot start server at "${c.serverDir}": the journal "${data}" of instance 001 cannot be used (it has no LMDB header); restore it from a backup or start with another --server-dir: starting from an empty state would reuse job ids and overwrite old outputs`,
    ]);
    await Deno.remove(data);
    const missing = await c.hq(["server", "start"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /of instance 001 is missing although a server ran there/);
    assert.deepEqual(instances(c.serverDir), ["001"], "no instance was made");
    assert.throws(() => Deno.readLinkSync(join(c.serverDir, "hq-current")), Deno.errors.NotFound);
  });
});
