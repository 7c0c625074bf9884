/**
 * `hq worker hwdetect` on this machine, and the resource-flag errors of
 * `hq worker start` (raised before any server is contacted).
 */
import assert from "node:assert/strict";
import { Cluster, type HqResult } from "./_harness.ts";
import { parseCpuList } from "../lib/resources/detect.ts";

/** One resource of HyperQueue's descriptor JSON. */
interface PoolJson {
  name: string;
  kind: "list" | "range" | "groups" | "sum";
  values?: string[];
  start?: number;
  end?: number;
  groups?: string[][];
  size?: number;
}

/** Number of indices of an indexed pool. */
function indexCount(p: PoolJson): number {
  if (p.kind === "list") return p.values!.length;
  if (p.kind === "range") return p.end! - p.start! + 1;
  if (p.kind === "groups") return p.groups!.flat().length;
  return 0;
}

/** Number of CPUs in this process's affinity mask (inherited by the child). */
function affinityCount(): number {
  try {
    const line = Deno.readTextFileSync("/proc/self/status").split("\n")
      .find((l) => l.startsWith("Cpus_allowed_list:"));
    if (line) return parseCpuList(line.slice(line.indexOf(":") + 1)).length;
  } catch {
    // not Linux: the worker falls back to the thread count too
  }
  return navigator.hardwareConcurrency;
}

async function hwdetect(args: string[], env: Record<string, string>): Promise<HqResult> {
  await using c = await Cluster.create();
  return await c.hq(["worker", "hwdetect", ...args], { noServerDir: true, env });
}

function poolsOf(r: HqResult): PoolJson[] {
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { resources: PoolJson[]; coupling: unknown };
  assert.deepEqual(doc.coupling, { weights: [] });
  return doc.resources;
}

Deno.test("e2e: worker hwdetect --output-mode json reports the affinity CPUs and CUDA GPUs", async () => {
  const r = await hwdetect(["--output-mode", "json"], { CUDA_VISIBLE_DEVICES: "0,1" });
  const pools = poolsOf(r);
  const cpus = pools.find((p) => p.name === "cpus");
  assert.ok(cpus, r.stdout);
  assert.equal(indexCount(cpus), affinityCount());
  const gpus = pools.find((p) => p.name === "gpus/nvidia");
  assert.deepEqual(gpus, { name: "gpus/nvidia", kind: "list", values: ["0", "1"] });
  const mem = pools.find((p) => p.name === "mem");
  assert.equal(mem?.kind, "sum");
  assert.ok((mem?.size ?? 0) > 0, r.stdout);
});

Deno.test("e2e: worker hwdetect prints a summary and pool lines in cli mode", async () => {
  const r = await hwdetect(["--output-mode", "cli"], { CUDA_VISIBLE_DEVICES: "0,1" });
  assert.equal(r.code, 0, r.stderr);
  const [summary, full] = r.stdout.split("\n\n");
  const s = summary!.split("\n");
  assert.equal(s[0], "Summary:");
  assert.match(s[1]!, /^cpus: \d+( \d+x\d+)*$|^cpus: (\d+x\d+ ?)+$/);
  assert.equal(s[2], "gpus/nvidia: 2");
  assert.match(s[3]!, /^mem: \d+\.\d\d (MiB|GiB)$/);
  const f = full!.trimEnd().split("\n");
  assert.equal(f[0], "Full Description:");
  assert.match(f[1]!, /^cpus: (\[|range\()/);
  assert.equal(f[2], "gpus/nvidia: [0,1]");
  assert.match(f[3]!, /^mem: sum\(\d+\)$/);
});

Deno.test("e2e: worker hwdetect --no-hyper-threading keeps at most the affinity CPUs", async () => {
  const pools = poolsOf(await hwdetect(["--no-hyper-threading", "--output-mode", "json"], {}));
  const cpus = pools.find((p) => p.name === "cpus");
  const n = cpus ? indexCount(cpus) : 0;
  assert.ok(n >= 1 && n <= affinityCount(), `cpus: ${n}`);
});

Deno.test("e2e: worker hwdetect warns about duplicate CUDA_VISIBLE_DEVICES and goes on", async () => {
  const r = await hwdetect(["--output-mode", "json"], { CUDA_VISIBLE_DEVICES: "1,1" });
  const pools = poolsOf(r);
  assert.ok(pools.some((p) => p.name === "cpus"));
  assert.match(r.stderr, /^\S+ WARN Ignoring CUDA_VISIBLE_DEVICES="1,1": duplicate/m);
});

const BAD_START: [string[], RegExp][] = [
  [["--detect-resources", "none"], /--cpus is required/],
  [["--detect-resources", "cpus,disks"], /unknown item "disks"/],
  [["--cpus", "2", "--resource", "cpus=2"], /cannot be combined with --cpus/],
  [["--resource", "gpus=2", "--resource", "gpus=[0]"], /defined twice/],
  [["--resource", "gpus"], /expected NAME=DEF/],
  [["--resource", "cpus=sum(4)"], /sum pool/],
];

for (const [args, pattern] of BAD_START) {
  Deno.test(`e2e: worker start ${args.join(" ")} fails with one line`, async () => {
    await using c = await Cluster.create();
    const r = await c.hq(["worker", "start", ...args]);
    assert.notEqual(r.code, 0, r.stdout);
    const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
    assert.equal(lines.length, 1, JSON.stringify(r.stderr));
    assert.match(lines[0]!, pattern);
  });
}
