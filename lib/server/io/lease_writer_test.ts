import assert from "node:assert/strict";
import type { Lease } from "../../protocol/mod.ts";
import { type LeaseFileRead, LeaseWriter, type LeaseWriterIo } from "./lease_writer.ts";

const MINE: Lease = {
  host: "login1",
  pid: 100,
  startedAt: 5,
  seq: 1,
  at: 0,
  intervalMs: 1000,
  stopped: false,
};

/** A lease file in memory; `fail` makes writes throw with that message. */
class FakeFile implements LeaseWriterIo {
  content: LeaseFileRead = { kind: "lease", lease: MINE };
  fail: string | null = null;
  hang = false;
  writes = 0;
  time = 0;
  now(): number {
    return this.time;
  }
  read(): LeaseFileRead {
    return this.content;
  }
  write(lease: Lease): Promise<void> {
    if (this.hang) return new Promise(() => {});
    if (this.fail !== null) return Promise.reject(new Error(this.fail));
    this.writes++;
    this.content = { kind: "lease", lease };
    return Promise.resolve();
  }
  get lease(): Lease | undefined {
    return this.content.kind === "lease" ? this.content.lease : undefined;
  }
}

function writer(file: FakeFile, armMs = 60_000): LeaseWriter {
  return new LeaseWriter(file, { lease: MINE, path: "/sd/001/lease", armMs });
}

/** A tick of `w` (whose file is `file`) at `time`. */
function tickAt(w: LeaseWriter, file: FakeFile, time: number, checkIns: number) {
  file.time = time;
  return w.tick(checkIns);
}

Deno.test("LeaseWriter.tick() rewrites its own lease once an interval with the next seq", async () => {
  const file = new FakeFile();
  const w = writer(file);
  await tickAt(w, file, 500, 1);
  assert.equal(file.writes, 0, "not before an interval");
  const r = await tickAt(w, file, 1000, 2);
  assert.deepEqual(r, { logs: [], lost: null });
  assert.equal(file.lease?.seq, 2);
  assert.equal(file.lease?.at, 1000);
  await tickAt(w, file, 2000, 3);
  assert.equal(file.lease?.seq, 3);
});

Deno.test("LeaseWriter.tick() loses the instance to another holder and never writes again", async () => {
  const file = new FakeFile();
  const w = writer(file);
  file.content = { kind: "lease", lease: { ...MINE, host: "login2", pid: 7, startedAt: 9 } };
  const r = await tickAt(w, file, 1000, 1);
  assert.equal(r.lost?.code, "taken");
  assert.match(r.lost!.reason, /another server \(host login2, pid 7\) took over the instance/);
  assert.equal(file.writes, 0);
  assert.deepEqual(await tickAt(w, file, 2000, 2), { logs: [], lost: null });
  assert.equal(file.writes, 0);
  // The same host and pid with another start time is another server too (a reused pid).
  const reused = new FakeFile();
  reused.content = { kind: "lease", lease: { ...MINE, startedAt: 6 } };
  assert.equal((await tickAt(writer(reused), reused, 1000, 1)).lost?.code, "taken");
});

Deno.test("LeaseWriter.tick() logs failing rewrites once per cause and gives up before the lease is stale", async () => {
  const file = new FakeFile();
  const w = writer(file);
  file.fail = "No space left on device";
  const first = await tickAt(w, file, 1000, 1);
  assert.deepEqual(first.logs, [
    'cannot rewrite the lease "/sd/001/lease": No space left on device',
  ]);
  assert.deepEqual((await tickAt(w, file, 2000, 2)).logs, [], "the same cause is logged once");
  // Another machine takes the lease for stale after 5 s; the writer gives up at 3 s.
  const lost = await tickAt(w, file, 3000, 3);
  assert.equal(lost.lost?.code, "failing");
  assert.match(lost.lost!.reason, /was not rewritten for 3\.0 s \(rewrites fail\)/);
});

Deno.test("LeaseWriter.tick() recovers from a passing failure and says so", async () => {
  const file = new FakeFile();
  const w = writer(file);
  file.fail = "Input/output error";
  await tickAt(w, file, 1000, 1);
  file.fail = null;
  const r = await tickAt(w, file, 2000, 2);
  assert.deepEqual(r.logs, ['the lease "/sd/001/lease" is rewritten again']);
  assert.equal(r.lost, null);
  assert.equal(
    (await tickAt(w, file, 4500, 3)).lost,
    null,
    "the failure age counts from the last success",
  );
});

Deno.test("LeaseWriter.tick() counts a hanging rewrite as failing", async () => {
  const file = new FakeFile();
  const w = writer(file);
  file.hang = true;
  void tickAt(w, file, 1000, 1);
  assert.equal(w.busy, true);
  assert.equal((await tickAt(w, file, 2000, 2)).lost, null);
  const r = await tickAt(w, file, 3000, 3);
  assert.equal(r.lost?.code, "failing");
  assert.match(r.lost!.reason, /a rewrite hangs/);
});

Deno.test("LeaseWriter.tick() stops refreshing when the main thread does not check in", async () => {
  const file = new FakeFile();
  const w = writer(file, 10_000);
  await tickAt(w, file, 1000, 1);
  for (let t = 2000; t <= 11_000; t += 1000) {
    assert.equal((await tickAt(w, file, t, 1)).lost, null, `still armed at ${t}`);
  }
  const writes = file.writes;
  const r = await tickAt(w, file, 11_500, 1);
  assert.equal(r.lost?.code, "stalled");
  assert.match(r.lost!.reason, /did not respond for 10\.5 s/);
  await tickAt(w, file, 12_500, 2);
  assert.equal(file.writes, writes, "no write after giving up");
});

Deno.test("LeaseWriter.tick() writes a vanished or unreadable lease again, logging it once", async () => {
  const file = new FakeFile();
  const w = writer(file);
  file.content = { kind: "missing" };
  assert.deepEqual((await tickAt(w, file, 1000, 1)).logs, [
    'the lease "/sd/001/lease" vanished; writing it again',
  ]);
  assert.equal(file.lease?.seq, 2);
  file.content = { kind: "unreadable", cause: "not a lease" };
  const r = await tickAt(w, file, 2000, 2);
  assert.equal(r.lost, null);
  assert.equal(file.lease?.seq, 3);
});

Deno.test("LeaseWriter.stop() marks the lease stopped, unless the instance was lost", async () => {
  const file = new FakeFile();
  const w = writer(file);
  file.time = 1500;
  await w.stop();
  assert.equal(file.lease?.stopped, true);
  assert.equal(file.lease?.seq, 2);

  const other = new FakeFile();
  const lost = writer(other);
  other.content = { kind: "lease", lease: { ...MINE, pid: 9 } };
  await tickAt(lost, other, 1000, 1);
  await lost.stop();
  assert.equal(other.lease?.pid, 9);
  assert.equal(other.lease?.stopped, false);
});
