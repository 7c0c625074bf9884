import assert from "node:assert/strict";
import type { Lease } from "../protocol/server_files.ts";
import { judgeLease, LEASE_CHECK_MS, type LeaseSeen, LeaseWatch } from "./lease_watch.ts";

function lease(over: Partial<Lease> = {}): Lease {
  return {
    host: "login1",
    pid: 4242,
    startedAt: 1000,
    seq: 5,
    at: 0,
    intervalMs: 1000,
    stopped: false,
    ...over,
  };
}

const SEEN: LeaseSeen = { seq: 5, startedAt: 1000, at: 50_000 };

Deno.test("judgeLease() takes a moving lease as alive and remembers when it moved", () => {
  const j = judgeLease(SEEN, lease({ seq: 6 }), 51_000, "login1");
  assert.deepEqual(j.verdict, { kind: "alive" });
  assert.deepEqual(j.seen, { seq: 6, startedAt: 1000, at: 51_000 });
});

Deno.test("judgeLease() tells a server that took over the instance from a cleanly stopped one", () => {
  const restarted = judgeLease(SEEN, lease({ seq: 1, startedAt: 2000 }), 51_000, "x");
  assert.deepEqual(restarted.verdict, { kind: "replaced" });
  assert.deepEqual(restarted.seen, { seq: 1, startedAt: 2000, at: 51_000 });
  // Only the start time changed (the same seq from another server): still another server.
  assert.deepEqual(judgeLease(SEEN, lease({ startedAt: 2000 }), 51_000, "x").verdict, {
    kind: "replaced",
  });
  assert.deepEqual(judgeLease(SEEN, lease({ seq: 6, stopped: true }), 51_000, "x").verdict, {
    kind: "stopped",
  });
  // A stopped lease stays stopped when read again unchanged.
  assert.deepEqual(judgeLease(SEEN, lease({ stopped: true }), 51_000, "x").verdict, {
    kind: "stopped",
  });
});

Deno.test("judgeLease() waits ten intervals, at least 15 s, before a still lease counts as gone", () => {
  const at = SEEN.at;
  // Unchanged, on another host: alive up to 15 s (10 intervals of 1 s is less).
  assert.deepEqual(judgeLease(SEEN, lease(), at + 15_000, "x").verdict, { kind: "alive" });
  assert.deepEqual(judgeLease(SEEN, lease(), at + 15_001, "x").verdict, { kind: "gone" });
  // A slow lease: ten of its intervals.
  const slow = lease({ intervalMs: 3000 });
  assert.deepEqual(judgeLease(SEEN, slow, at + 30_000, "x").verdict, { kind: "alive" });
  assert.deepEqual(judgeLease(SEEN, slow, at + 30_001, "x").verdict, { kind: "gone" });
  // Unreadable: not evidence by itself, but time without a change is.
  assert.deepEqual(judgeLease(SEEN, undefined, at + 15_000, "x").verdict, { kind: "alive" });
  assert.deepEqual(judgeLease(SEEN, undefined, at + 15_001, "x").verdict, { kind: "gone" });
  // A still lease never moves what was seen.
  assert.deepEqual(judgeLease(SEEN, lease(), at + 20_000, "x").seen, SEEN);
});

Deno.test("judgeLease() asks for the pid of a still server on this host after two intervals", () => {
  const at = SEEN.at;
  assert.deepEqual(judgeLease(SEEN, lease(), at + 2000, "login1").verdict, { kind: "alive" });
  assert.deepEqual(judgeLease(SEEN, lease(), at + 2001, "login1").verdict, {
    kind: "goneIfPidGone",
    pid: 4242,
  });
  // Another host's pid means nothing here.
  assert.deepEqual(judgeLease(SEEN, lease(), at + 2001, "node7").verdict, { kind: "alive" });
  // A moving lease is never doubted.
  assert.deepEqual(judgeLease(SEEN, lease({ seq: 6 }), at + 9000, "login1").verdict, {
    kind: "alive",
  });
});

Deno.test("LeaseWatch reads at most once a second and asks about the pid only when needed", () => {
  let current: Lease | undefined = lease();
  let reads = 0;
  const asked: number[] = [];
  let gone = false;
  const watch = new LeaseWatch({
    first: lease(),
    here: "login1",
    read: () => {
      reads++;
      return current;
    },
    pidGone: (pid) => {
      asked.push(pid);
      return gone;
    },
  }, 0);
  assert.equal(watch.check(LEASE_CHECK_MS - 1), "alive");
  assert.equal(reads, 0);
  current = lease({ seq: 6 });
  assert.equal(watch.check(LEASE_CHECK_MS), "alive");
  assert.equal(reads, 1);
  assert.equal(watch.check(LEASE_CHECK_MS + 500), "alive");
  assert.equal(reads, 1);
  // Still since 1000: after two intervals the pid is checked; the server lives.
  assert.equal(watch.check(3001), "alive");
  assert.deepEqual(asked, [4242]);
  gone = true;
  assert.equal(watch.check(4001), "gone");
  assert.deepEqual(asked, [4242, 4242]);
  // Between reads the last answer stands.
  assert.equal(watch.check(4500), "gone");
  assert.equal(reads, 3);
  // The server comes back on the same lease (it was only paused): alive again.
  current = lease({ seq: 7 });
  assert.equal(watch.check(5001), "alive");
});

Deno.test("LeaseWatch sees a restarted server at the next check", () => {
  let current: Lease | undefined = lease();
  const watch = new LeaseWatch({
    first: lease(),
    here: "x",
    read: () => current,
    pidGone: () => assert.fail("no pid check on another host"),
  }, 10_000);
  assert.equal(watch.check(11_000), "alive");
  current = lease({ seq: 0, startedAt: 9999 });
  assert.equal(watch.check(11_500), "alive", "not yet time to look");
  assert.equal(watch.check(12_000), "replaced");
  assert.equal(watch.check(12_500), "alive", "told once");
  current = lease({ seq: 1, startedAt: 9999 });
  assert.equal(watch.check(13_000), "alive", "the new server's lease moves");
  current = lease({ seq: 2, startedAt: 9999, stopped: true });
  assert.equal(watch.check(14_000), "stopped");
});

Deno.test("LeaseWatch follows a new server it was told about before reading its lease", () => {
  let current: Lease | undefined = lease();
  const watch = new LeaseWatch({
    first: lease(),
    here: "x",
    read: () => current,
    pidGone: () => false,
  }, 0);
  current = lease({ seq: 1, startedAt: 7777 });
  watch.follow(7777, 500);
  assert.equal(watch.check(1000), "alive", "the new server's lease is no news");
  current = lease({ seq: 2, startedAt: 7777 });
  assert.equal(watch.check(2000), "alive");
});
