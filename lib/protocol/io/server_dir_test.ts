import assert from "node:assert/strict";
import { ownProcessIdentity } from "../../common/io/mod.ts";
import type { Lease } from "../server_files.ts";
import { holderOnThisMachine, isLeaseLive, localHostname, waitLeaseChange } from "./server_dir.ts";

const linux = Deno.build.os === "linux";

function ownLease(over: Partial<Lease> = {}): Lease {
  const now = Date.now();
  return {
    host: localHostname(),
    pid: Deno.pid,
    startedAt: now,
    seq: 1,
    at: now,
    intervalMs: 1000,
    stopped: false,
    process: ownProcessIdentity(),
    ...over,
  };
}

async function withLease<T>(lease: Lease, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/lease`, JSON.stringify(lease));
    return await fn(`${dir}/lease`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "isLeaseLive() takes a live pid with another process start time for a dead holder, at once",
  ignore: !linux,
  fn: async () => {
    const me = ownProcessIdentity();
    assert.ok(me.startTicks !== null);
    const reused = ownLease({ process: { ...me, startTicks: me.startTicks - 1 } });
    await withLease(reused, async (path) => {
      const t0 = Date.now();
      assert.equal((await isLeaseLive(path)).live, false);
      assert.ok(Date.now() - t0 < 1000, "judged without watching the lease");
    });
    await withLease(ownLease(), async (path) => {
      assert.equal((await isLeaseLive(path)).live, true);
    });
  },
});

Deno.test({
  name:
    "isLeaseLive() watches the lease of a holder from another boot (a reused pid after a reboot)",
  ignore: !linux,
  fn: async () => {
    const me = ownProcessIdentity();
    const rebooted = ownLease({ process: { ...me, bootId: "another-boot" } });
    assert.equal(holderOnThisMachine(rebooted), "unknown");
    await withLease(rebooted, async (path) => {
      // Nobody rewrites it: dead once `stillMs` passed, although pid and host match.
      const t0 = Date.now();
      assert.equal((await isLeaseLive(path, { stillMs: 300 })).live, false);
      assert.ok(Date.now() - t0 >= 300);
    });
  },
});

Deno.test({
  name: "isLeaseLive() takes a lease that moves for a live holder elsewhere",
  fn: async () => {
    const elsewhere: Lease = ownLease({ host: "node-elsewhere", pid: 1 });
    delete elsewhere.process;
    await withLease(elsewhere, async (path) => {
      const writer = setTimeout(
        () => Deno.writeTextFileSync(path, JSON.stringify({ ...elsewhere, seq: 2 })),
        200,
      );
      try {
        const { live, lease } = await isLeaseLive(path, { stillMs: 2000 });
        assert.equal(live, true);
        assert.equal(lease?.seq, 2);
      } finally {
        clearTimeout(writer);
      }
    });
  },
});

Deno.test({
  name: "holderOnThisMachine() judges an older lease without identity by its pid alone when gone",
  ignore: !linux,
  fn: async () => {
    const child = new Deno.Command("true").spawn();
    await child.status;
    const old = { host: localHostname(), pid: child.pid };
    assert.equal(holderOnThisMachine(old), "dead");
    // A pid that exists may be a reuse: only the lease can tell.
    assert.equal(holderOnThisMachine({ host: localHostname(), pid: Deno.pid }), "unknown");
  },
});

Deno.test("waitLeaseChange() returns undefined for a lease nobody rewrites", async () => {
  await withLease(ownLease(), async (path) => {
    const lease = JSON.parse(await Deno.readTextFile(path)) as Lease;
    assert.equal(await waitLeaseChange(path, lease, 100), undefined);
  });
});
