import assert from "node:assert/strict";
import { ownProcessIdentity, tempDir } from "../../common/io/mod.ts";
import { instanceLayout, type Lease } from "../../protocol/mod.ts";
import { ServerRunningError } from "./claim.ts";
import { type OpenedInstance, openInstance, pruneOldInstances } from "./instance.ts";
import { ServerDirError } from "../../protocol/io/mod.ts";

/** A lease of a process that has ended (this machine, its pid gone). */
async function deadLease(): Promise<Lease> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return {
    host: Deno.hostname(),
    pid: child.pid,
    startedAt: 1000,
    seq: 9,
    at: 1000,
    intervalMs: 100,
    stopped: false,
    process: { ...ownProcessIdentity(), startTicks: 1 },
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  await using dir = await tempDir();
  await fn(dir.path);
}

/** Opens `n` times at once; stops every lease won; returns the winners and the errors. */
async function race(dir: string, n: number): Promise<{ won: OpenedInstance[]; errors: Error[] }> {
  const results = await Promise.allSettled(
    Array.from({ length: n }, () => openInstance(dir, { leaseIntervalMs: 100, onLost: () => {} })),
  );
  const won = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  for (const w of won) await w.lease.stop(false);
  const errors = results.flatMap((r) => r.status === "rejected" ? [r.reason as Error] : []);
  return { won, errors };
}

Deno.test({
  name: "openInstance() lets exactly one of several openers take over a dead server's instance",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await withDir(async (dir) => {
      await Deno.mkdir(`${dir}/001`);
      await Deno.symlink("001", `${dir}/hq-current`);
      await Deno.writeTextFile(`${dir}/001/lease`, JSON.stringify(await deadLease()));
      const { won, errors } = await race(dir, 5);
      assert.equal(won.length, 1);
      assert.equal(won[0]!.takeover, true);
      assert.equal(won[0]!.layout.root, `${dir}/001`);
      assert.equal(errors.length, 4);
      for (const e of errors) {
        assert.ok(e instanceof ServerRunningError, String(e));
        assert.match(e.message, /^Cannot start server at ".*": /);
      }
      const lease = JSON.parse(await Deno.readTextFile(`${dir}/001/lease`)) as Lease;
      assert.equal(lease.pid, Deno.pid);
      assert.equal(lease.startedAt, won[0]!.lease.startedAt);
    });
  },
});

Deno.test("openInstance() lets exactly one of several openers make a new instance", async () => {
  await withDir(async (dir) => {
    const { won, errors } = await race(dir, 5);
    assert.equal(won.length, 1);
    assert.equal(won[0]!.takeover, false);
    assert.equal(errors.length, 4);
    for (const e of errors) assert.ok(e instanceof ServerRunningError, String(e));
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    const root = won[0]!.layout.root;
    assert.deepEqual(names, [root.slice(dir.length + 1), "hq-current"], "losers removed theirs");
    assert.equal(Deno.readLinkSync(`${dir}/hq-current`), root.slice(dir.length + 1));
  });
});

Deno.test("openInstance() refuses a link to an instance that does not exist", async () => {
  await withDir(async (dir) => {
    await Deno.symlink("007", `${dir}/hq-current`);
    await assert.rejects(
      openInstance(dir, { onLost: () => {} }),
      ServerDirError,
      `hq-current points at "${dir}/007", which does not exist`,
    );
  });
});

Deno.test("pruneOldInstances() keeps the newest instances up to the running one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const n of ["001", "002", "003", "004", "005", "notes"]) await Deno.mkdir(`${dir}/${n}`);
    const lines: string[] = [];
    const removed = pruneOldInstances(dir, instanceLayout(`${dir}/005`), (l) => lines.push(l));
    assert.deepEqual(removed, ["001", "002"]);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "003",
      "004",
      "005",
      "notes",
    ]);
    assert.deepEqual(lines, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
