import assert from "node:assert/strict";
import type { Lease } from "../../protocol/mod.ts";
import { LeaseKeeper, LeaseLostError } from "./lease_keeper.ts";

function readLeaseOf(path: string): Lease {
  return JSON.parse(Deno.readTextFileSync(path)) as Lease;
}

/** Blocks this thread (no timers, no messages) for `ms`. */
function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) { /* busy */ }
}

async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("LeaseKeeper keeps the lease moving while the main thread is blocked", async () => {
  await inTempDir(async (dir) => {
    const lost: string[] = [];
    const keeper = new LeaseKeeper(`${dir}/lease`, {
      intervalMs: 100,
      onLost: (r) => lost.push(r),
    });
    await keeper.start();
    try {
      assert.equal(readLeaseOf(`${dir}/lease`).seq, 1);
      assert.equal(readLeaseOf(`${dir}/lease`).process?.startTicks !== undefined, true);
      block(1500);
      const seq = readLeaseOf(`${dir}/lease`).seq;
      assert.ok(seq >= 8, `the lease moved during the block (seq ${seq})`);
      assert.equal(keeper.held(), true);
    } finally {
      await keeper.stop(true);
    }
    const last = readLeaseOf(`${dir}/lease`);
    assert.equal(last.stopped, true);
    assert.deepEqual(lost, []);
  });
});

Deno.test("LeaseKeeper reports a lease another server wrote, and guards commits", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/lease`;
    const lost: string[] = [];
    const keeper = new LeaseKeeper(path, { intervalMs: 100, onLost: (r) => lost.push(r) });
    await keeper.start();
    try {
      const mine = readLeaseOf(path);
      Deno.writeTextFileSync(path, JSON.stringify({ ...mine, host: "login9", pid: 4242 }));
      const until = Date.now() + 3000;
      while (lost.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(lost, [
        `another server (host login9, pid 4242) took over the instance: its lease is in "${path}"`,
      ]);
      assert.equal(keeper.held(), false);
      assert.throws(() => keeper.assertHeld(), LeaseLostError);
      assert.equal(lost.length, 1, "reported once");
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(readLeaseOf(path).pid, 4242, "the writer never writes again");
    } finally {
      await keeper.stop(true);
    }
    assert.equal(readLeaseOf(path).stopped, false, "a lost lease is not marked stopped");
  });
});

Deno.test("LeaseKeeper gives the instance up after a main thread stuck past armMs", async () => {
  await inTempDir(async (dir) => {
    const lost: string[] = [];
    const keeper = new LeaseKeeper(`${dir}/lease`, {
      intervalMs: 100,
      armMs: 500,
      onLost: (r) => lost.push(r),
    });
    await keeper.start();
    try {
      block(1200);
      // Synchronously, before the thread's message can arrive.
      assert.equal(keeper.held(), false);
      assert.throws(
        () => keeper.assertHeld(),
        new LeaseLostError(
          "the server's main thread did not respond in time, so its lease was left to expire",
        ),
      );
      assert.equal(lost.length, 1);
      const seq = readLeaseOf(`${dir}/lease`).seq;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(readLeaseOf(`${dir}/lease`).seq, seq, "no refresh after giving up");
    } finally {
      await keeper.stop(false);
    }
  });
});

Deno.test("LeaseKeeper.start() refuses a lease someone wrote since the claim", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/lease`;
    const other: Lease = {
      host: "login9",
      pid: 4242,
      startedAt: 1,
      seq: 3,
      at: 1,
      intervalMs: 1000,
      stopped: false,
    };
    Deno.writeTextFileSync(path, JSON.stringify(other));
    const keeper = new LeaseKeeper(path, { intervalMs: 100, onLost: () => {} });
    await assert.rejects(keeper.start(), LeaseLostError);
    // Replacing exactly what the claim judged dead is fine.
    const taker = new LeaseKeeper(path, { intervalMs: 100, onLost: () => {}, replaces: other });
    await taker.start();
    try {
      assert.equal(readLeaseOf(path).pid, Deno.pid);
    } finally {
      await taker.stop(false);
    }
  });
});
