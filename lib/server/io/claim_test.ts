import assert from "node:assert/strict";
import { ownProcessIdentity } from "../../common/io/mod.ts";
import { instanceLayout, type Lease } from "../../protocol/mod.ts";
import {
  claimGeneration,
  claimInstance,
  claimsDir,
  ownClaim,
  ServerRunningError,
} from "./claim.ts";

const DEAD: Lease = {
  host: "login1",
  pid: 4242,
  startedAt: 1000,
  seq: 17,
  at: 1000,
  intervalMs: 100,
  stopped: false,
};

async function withInstance(fn: (root: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/001`);
    await Deno.writeTextFile(`${dir}/001/lease`, JSON.stringify(DEAD));
    await fn(`${dir}/001`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("claimGeneration() names the judged lease, or none", () => {
  assert.equal(claimGeneration(DEAD), "1000-4242-17");
  assert.equal(claimGeneration(undefined), "none");
});

Deno.test("claimInstance() is won by exactly one of several racing claimants", async () => {
  await withInstance(async (root) => {
    const layout = instanceLayout(root);
    // The winner writes its lease at once, as a starting server does.
    const claim = async () => {
      const r = await claimInstance(layout, DEAD, { serverDir: "sd" });
      if (r === "won") {
        const mine = { ...DEAD, pid: Deno.pid, startedAt: Date.now(), seq: 1 };
        await Deno.writeTextFile(layout.lease, JSON.stringify(mine));
      }
      return r;
    };
    const results = await Promise.allSettled(Array.from({ length: 6 }, claim));
    const won = results.filter((r) => r.status === "fulfilled" && r.value === "won");
    const lost = results.filter((r) => r.status === "rejected");
    assert.equal(won.length, 1);
    assert.equal(lost.length, 5);
    for (const r of lost) {
      const e = (r as PromiseRejectedResult).reason;
      assert.ok(e instanceof ServerRunningError);
      assert.match(
        e.message,
        /^Cannot start server at "sd": another server \(host .*, pid \d+\) is taking over its instance 001$/,
      );
    }
    assert.deepEqual([...Deno.readDirSync(claimsDir(layout))].map((e) => e.name), [
      "1000-4242-17.1",
    ]);
  });
});

Deno.test("claimInstance() supersedes a claimant that died before writing its lease", async () => {
  await withInstance(async (root) => {
    const layout = instanceLayout(root);
    await Deno.mkdir(claimsDir(layout));
    const me = ownProcessIdentity();
    // This process's pid with another start time: a process that is gone.
    const dead = { ...ownClaim(), process: { ...me, startTicks: (me.startTicks ?? 0) + 1 } };
    await Deno.writeTextFile(`${claimsDir(layout)}/1000-4242-17.1`, JSON.stringify(dead));
    assert.equal(await claimInstance(layout, DEAD, { serverDir: "sd" }), "won");
    assert.ok(Deno.statSync(`${claimsDir(layout)}/1000-4242-17.2`).isFile);
  });
});

Deno.test("claimInstance() waits for the lease of a claimant it cannot check, then supersedes it", async () => {
  await withInstance(async (root) => {
    const layout = instanceLayout(root);
    await Deno.mkdir(claimsDir(layout));
    // Unreadable (a claimant that died between create and write).
    await Deno.writeTextFile(`${claimsDir(layout)}/1000-4242-17.1`, "");
    const t0 = Date.now();
    assert.equal(await claimInstance(layout, DEAD, { serverDir: "sd", stillMs: 300 }), "won");
    assert.ok(Date.now() - t0 >= 300);
  });
});

Deno.test("claimInstance() answers moved when the lease changed under it", async () => {
  await withInstance(async (root) => {
    const layout = instanceLayout(root);
    await Deno.writeTextFile(layout.lease, JSON.stringify({ ...DEAD, seq: 18 }));
    assert.equal(await claimInstance(layout, DEAD, { serverDir: "sd" }), "moved");
  });
});
