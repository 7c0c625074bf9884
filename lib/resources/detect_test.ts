import assert from "node:assert/strict";
import { poolJson, renderHwdetect } from "../cli/mod.ts";
import {
  detectAmdGpus,
  detectCpus,
  detectMemory,
  detectNvidiaGpus,
  type DetectOptions,
  detectResources,
  type EnvRecord,
  parseCpuList,
} from "./detect.ts";
import {
  mergeResources,
  parseDetectList,
  planWorkerResources,
  resolveWorkerResources,
  type WorkerResourceFlags,
} from "./detect_worker.ts";
import type { ResourcePool } from "./descriptor.ts";

type Files = Record<string, string>;

function reader(files: Files): (path: string) => string | undefined {
  return (path) => files[path];
}

const NO_DIRS = (): undefined => undefined;

/** Two NUMA nodes of 4 threads each; cores are (n, n+4) pairs split as node0 0,1,4,5. */
function numaHtTree(allowed: string): Files {
  const files: Files = {
    "/proc/self/status": `Name:\tdeno\nCpus_allowed:\tff\nCpus_allowed_list:\t${allowed}\n`,
    "/sys/devices/system/node/possible": "0-1\n",
    "/sys/devices/system/node/node0/cpulist": "0-1,4-5\n",
    "/sys/devices/system/node/node1/cpulist": "2-3,6-7\n",
  };
  for (let c = 0; c < 8; c++) {
    files[`/sys/devices/system/cpu/cpu${c}/topology/thread_siblings_list`] = `${c % 4},${
      (c % 4) + 4
    }\n`;
  }
  return files;
}

/** Two NUMA nodes with 4 CPUs each, no hyper-threading data. */
function numaTree(allowed: string): Files {
  return {
    "/proc/self/status": `Cpus_allowed_list:\t${allowed}\n`,
    "/sys/devices/system/node/possible": "0-1",
    "/sys/devices/system/node/node0/cpulist": "0-3",
    "/sys/devices/system/node/node1/cpulist": "4-7",
  };
}

function cpusOf(files: Files, opts: { noHyperThreading?: boolean; env?: EnvRecord } = {}) {
  return detectCpus(reader(files), { fallbackCount: 3, ...opts });
}

const MEMINFO = "MemTotal:       65536000 kB\nMemFree:        1000 kB\n"; // 64000 MiB
const GIB = 1024 ** 3;

// ---- parseCpuList ----------------------------------------------------------------------------

Deno.test("parseCpuList() reads ranges, single ids, spaces and a trailing newline", () => {
  assert.deepEqual(parseCpuList("0-3,8, 10 - 11\n"), [0, 1, 2, 3, 8, 10, 11]);
  assert.deepEqual(parseCpuList("5"), [5]);
  assert.deepEqual(parseCpuList("\n"), []);
});

Deno.test("parseCpuList() throws SyntaxError on bad items and descending ranges", () => {
  assert.throws(() => parseCpuList("0-x"), SyntaxError);
  assert.throws(() => parseCpuList("1,,2"), SyntaxError);
  assert.throws(() => parseCpuList("-2"), SyntaxError);
  assert.throws(() => parseCpuList("3-1"), /range "3-1" descends/);
});

// ---- cpus ------------------------------------------------------------------------------------

Deno.test("detectCpus() groups the affinity mask by NUMA node", () => {
  const { pool, warnings } = cpusOf(numaTree("0-7"));
  assert.deepEqual(pool, {
    name: "cpus",
    kind: "groups",
    groups: [["0", "1", "2", "3"], ["4", "5", "6", "7"]],
    size: 0,
  });
  assert.deepEqual(warnings, []);
});

Deno.test("detectCpus() keeps only CPUs in the affinity mask", () => {
  assert.deepEqual(cpusOf(numaTree("1-2,5")).pool?.groups, [["1", "2"], ["5"]]);
});

Deno.test("detectCpus() gives a flat list when the mask covers one NUMA node", () => {
  const { pool } = cpusOf(numaTree("4,6"));
  assert.equal(pool?.kind, "list");
  assert.deepEqual(pool?.groups, [["4", "6"]]);
});

Deno.test("detectCpus() gives a flat list when some allowed CPU is in no NUMA node", () => {
  const files = numaTree("0-8");
  assert.deepEqual(cpusOf(files).pool, {
    name: "cpus",
    kind: "list",
    groups: [["0", "1", "2", "3", "4", "5", "6", "7", "8"]],
    size: 0,
  });
});

Deno.test("detectCpus() falls back to the CPU count without an affinity mask", () => {
  assert.deepEqual(cpusOf({}).pool?.groups, [["0", "1", "2"]]);
  assert.deepEqual(detectCpus(() => undefined, { fallbackCount: 0 }).pool?.groups, [["0"]]);
});

Deno.test("detectCpus() warns and falls back on a malformed affinity mask", () => {
  const { pool, warnings } = cpusOf({ "/proc/self/status": "Cpus_allowed_list:\tgarbage\n" });
  assert.deepEqual(pool?.groups, [["0", "1", "2"]]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /affinity mask/);
});

Deno.test("detectCpus() with noHyperThreading keeps the first thread of each core", () => {
  const all = cpusOf(numaHtTree("0-7"));
  assert.deepEqual(all.pool?.groups, [["0", "1", "4", "5"], ["2", "3", "6", "7"]]);
  const noHt = cpusOf(numaHtTree("0-7"), { noHyperThreading: true });
  assert.deepEqual(noHt.pool?.groups, [["0", "1"], ["2", "3"]]);
  assert.equal(noHt.pool?.kind, "groups");
  assert.deepEqual(noHt.warnings, []);
});

Deno.test("detectCpus() with noHyperThreading keeps a core whose first thread is not allowed", () => {
  const { pool } = cpusOf(numaHtTree("1,4-5"), { noHyperThreading: true });
  // cpu 4's sibling 0 is outside the mask, so 4 stands for its core; 5 loses to 1.
  assert.deepEqual(pool?.groups, [["1", "4"]]);
});

Deno.test("detectCpus() with noHyperThreading keeps CPUs whose siblings are unreadable", () => {
  const files = numaHtTree("0-7");
  delete files["/sys/devices/system/cpu/cpu6/topology/thread_siblings_list"];
  const { pool, warnings } = cpusOf(files, { noHyperThreading: true });
  assert.deepEqual(pool?.groups, [["0", "1"], ["2", "3", "6"]]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /CPU\(s\) 6/);
});

Deno.test("detectCpus() warns when SLURM_CPUS_ON_NODE is below the mask but keeps the mask", () => {
  const { pool, warnings } = cpusOf(numaTree("0-7"), { env: { SLURM_CPUS_ON_NODE: "4" } });
  assert.equal(pool?.groups.flat().length, 8);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /SLURM_CPUS_ON_NODE is 4/);
  assert.deepEqual(cpusOf(numaTree("0-3"), { env: { SLURM_CPUS_ON_NODE: "4" } }).warnings, []);
});

// ---- gpus ------------------------------------------------------------------------------------

const NVIDIA_DIRS = (path: string) =>
  path === "/proc/driver/nvidia/gpus"
    ? ["0000:17:00.0", "0000:65:00.0", "0000:ca:00.0"]
    : undefined;

Deno.test("detectNvidiaGpus() lists CUDA_VISIBLE_DEVICES", () => {
  const { pool, warnings } = detectNvidiaGpus(NVIDIA_DIRS, { CUDA_VISIBLE_DEVICES: "0,1" });
  assert.deepEqual(pool, { name: "gpus/nvidia", kind: "list", groups: [["0", "1"]], size: 0 });
  assert.deepEqual(warnings, []);
  const uuids = detectNvidiaGpus(NO_DIRS, { CUDA_VISIBLE_DEVICES: "GPU-a1, GPU-b2" });
  assert.deepEqual(uuids.pool?.groups, [["GPU-a1", "GPU-b2"]]);
});

Deno.test("detectNvidiaGpus() ignores CUDA_VISIBLE_DEVICES with duplicates, with a warning", () => {
  const { pool, warnings } = detectNvidiaGpus(NVIDIA_DIRS, { CUDA_VISIBLE_DEVICES: "0,1,0" });
  assert.deepEqual(pool, {
    name: "gpus/nvidia",
    kind: "range",
    groups: [["0", "1", "2"]],
    size: 0,
  });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /CUDA_VISIBLE_DEVICES="0,1,0": duplicate/);
  assert.equal(detectNvidiaGpus(NO_DIRS, { CUDA_VISIBLE_DEVICES: "1,1" }).pool, null);
});

Deno.test("detectNvidiaGpus() counts /proc/driver/nvidia/gpus without the variable", () => {
  const { pool } = detectNvidiaGpus(NVIDIA_DIRS, {});
  assert.deepEqual(pool?.groups, [["0", "1", "2"]]);
  assert.deepEqual(detectNvidiaGpus(NO_DIRS, {}), { pool: null, warnings: [] });
  assert.deepEqual(detectNvidiaGpus(() => [], {}), { pool: null, warnings: [] });
});

Deno.test("detectNvidiaGpus() treats an empty CUDA_VISIBLE_DEVICES as no GPUs", () => {
  assert.deepEqual(detectNvidiaGpus(NVIDIA_DIRS, { CUDA_VISIBLE_DEVICES: "" }), {
    pool: null,
    warnings: [],
  });
});

Deno.test("detectAmdGpus() lists ROCR_VISIBLE_DEVICES", () => {
  assert.deepEqual(detectAmdGpus({ ROCR_VISIBLE_DEVICES: "2,3" }).pool, {
    name: "gpus/amd",
    kind: "list",
    groups: [["2", "3"]],
    size: 0,
  });
  assert.deepEqual(detectAmdGpus({}), { pool: null, warnings: [] });
  const dup = detectAmdGpus({ ROCR_VISIBLE_DEVICES: "1,1" });
  assert.equal(dup.pool, null);
  assert.match(dup.warnings[0]!, /ROCR_VISIBLE_DEVICES/);
});

// ---- mem -------------------------------------------------------------------------------------

function cgroupV2(path: string, limits: Record<string, string>): Files {
  const files: Files = { "/proc/self/cgroup": `0::${path}\n`, "/proc/meminfo": MEMINFO };
  for (const [dir, value] of Object.entries(limits)) {
    files[`/sys/fs/cgroup${dir}/memory.max`] = `${value}\n`;
  }
  return files;
}

Deno.test("detectMemory() takes SLURM_MEM_PER_NODE inside a SLURM job", () => {
  const env = { SLURM_JOB_ID: "77", SLURM_MEM_PER_NODE: "23968" };
  const { pool, warnings } = detectMemory(reader(cgroupV2("/job", { "/job": "1000" })), env);
  assert.deepEqual(pool, { name: "mem", kind: "sum", groups: [], size: 23968 });
  assert.deepEqual(warnings, []);
});

Deno.test("detectMemory() uses SLURM_MEM_PER_CPU times SLURM_CPUS_ON_NODE", () => {
  const env = { SLURM_JOBID: "7", SLURM_MEM_PER_CPU: "1000", SLURM_CPUS_ON_NODE: "4" };
  assert.equal(detectMemory(reader({ "/proc/meminfo": MEMINFO }), env).pool?.size, 4000);
});

Deno.test("detectMemory() ignores SLURM variables outside a job or when malformed", () => {
  const files = reader({ "/proc/meminfo": MEMINFO });
  assert.equal(detectMemory(files, { SLURM_MEM_PER_NODE: "100" }).pool?.size, 64000);
  const bad = detectMemory(files, { SLURM_JOB_ID: "1", SLURM_MEM_PER_NODE: "12G" });
  assert.equal(bad.pool?.size, 64000);
  assert.match(bad.warnings[0]!, /SLURM_MEM_PER_NODE="12G"/);
});

Deno.test("detectMemory() takes the smallest cgroup v2 limit of the cgroup and its ancestors", () => {
  const files = cgroupV2("/system.slice/job.scope/task", {
    "/system.slice/job.scope/task": "max",
    "/system.slice/job.scope": String(8 * GIB),
    "/system.slice": String(16 * GIB),
  });
  assert.equal(detectMemory(reader(files), {}).pool?.size, 8192);
});

Deno.test("detectMemory() uses the cgroup limit inside PBS", () => {
  const files = cgroupV2("/pbs_jobs.service/jobid/1.pbs", {
    "/pbs_jobs.service/jobid/1.pbs": String(2 * GIB + 5),
  });
  assert.equal(detectMemory(reader(files), { PBS_JOBID: "1.pbs" }).pool?.size, 2048);
});

Deno.test("detectMemory() reads a cgroup v1 memory limit", () => {
  const files: Files = {
    "/proc/self/cgroup": "5:cpu,cpuacct:/\n4:memory:/slurm/uid_1/job_9\n0::/\n",
    "/proc/meminfo": MEMINFO,
    "/sys/fs/cgroup/memory/slurm/uid_1/job_9/memory.limit_in_bytes": String(4 * GIB),
    "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
  };
  assert.equal(detectMemory(reader(files), {}).pool?.size, 4096);
});

Deno.test("detectMemory() ignores 'max', absurd and above-RAM cgroup limits", () => {
  const v1Unlimited: Files = {
    "/proc/self/cgroup": "4:memory:/\n",
    "/proc/meminfo": MEMINFO,
    "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
  };
  assert.equal(detectMemory(reader(v1Unlimited), {}).pool?.size, 64000);
  assert.equal(detectMemory(reader(cgroupV2("/a", { "/a": "max" })), {}).pool?.size, 64000);
  const above = cgroupV2("/a", { "/a": String(128 * GIB) });
  assert.equal(detectMemory(reader(above), {}).pool?.size, 64000);
});

Deno.test("detectMemory() falls back to /proc/meminfo, else warns", () => {
  assert.deepEqual(detectMemory(reader({ "/proc/meminfo": MEMINFO }), {}), {
    pool: { name: "mem", kind: "sum", groups: [], size: 64000 },
    warnings: [],
  });
  const none = detectMemory(() => undefined, {});
  assert.equal(none.pool, null);
  assert.equal(none.warnings.length, 1);
});

// ---- detectResources -------------------------------------------------------------------------

function host(files: Files, env: EnvRecord): Omit<DetectOptions, "what"> {
  return { read: reader(files), listDir: NVIDIA_DIRS, env, fallbackCpuCount: 1 };
}

Deno.test("detectResources() detects the chosen items in a fixed order", () => {
  const files = { ...numaTree("0-7"), "/proc/meminfo": MEMINFO };
  const env = { CUDA_VISIBLE_DEVICES: "0,1", ROCR_VISIBLE_DEVICES: "0" };
  const all = detectResources({
    ...host(files, env),
    what: new Set(["mem", "gpus/amd", "gpus/nvidia", "cpus"]),
  });
  assert.deepEqual(all.pools.map((p) => p.name), ["cpus", "gpus/nvidia", "gpus/amd", "mem"]);
  const some = detectResources({ ...host(files, env), what: new Set(["mem"]) });
  assert.deepEqual(some.pools.map((p) => p.name), ["mem"]);
  assert.deepEqual(detectResources({ ...host(files, env), what: new Set() }).pools, []);
});

Deno.test("detectResources() collects warnings of every detector", () => {
  const r = detectResources({
    ...host({ ...numaTree("0-7"), "/proc/meminfo": MEMINFO }, {
      CUDA_VISIBLE_DEVICES: "0,0",
      ROCR_VISIBLE_DEVICES: "1,1",
    }),
    what: new Set(["cpus", "gpus/nvidia", "gpus/amd", "mem"]),
  });
  assert.equal(r.warnings.length, 2);
  assert.deepEqual(r.pools.map((p) => p.name), ["cpus", "gpus/nvidia", "mem"]);
});

// ---- worker flags ----------------------------------------------------------------------------

Deno.test("parseDetectList() reads all, none and lists", () => {
  assert.deepEqual([...parseDetectList("all")], ["cpus", "gpus/nvidia", "gpus/amd", "mem"]);
  assert.deepEqual([...parseDetectList("none")], []);
  assert.deepEqual([...parseDetectList("gpus/amd, mem")], ["gpus/amd", "mem"]);
});

Deno.test("parseDetectList() rejects unknown items and all/none inside a list", () => {
  assert.throws(() => parseDetectList("cpus,gpus"), /unknown item "gpus"/);
  assert.throws(() => parseDetectList("all,mem"), /"all" cannot be combined/);
  assert.throws(() => parseDetectList(""), /unknown item ""/);
});

const FULL_HOST = host({ ...numaTree("0-7"), "/proc/meminfo": MEMINFO }, {
  CUDA_VISIBLE_DEVICES: "0,1",
});

function resolve(flags: WorkerResourceFlags) {
  return resolveWorkerResources(flags, FULL_HOST);
}

Deno.test("resolveWorkerResources() detects everything by default", () => {
  const r = resolve({});
  assert.deepEqual(r.pools.map((p) => [p.name, p.kind]), [
    ["cpus", "groups"],
    ["gpus/nvidia", "list"],
    ["mem", "sum"],
  ]);
});

Deno.test("resolveWorkerResources() never overrides explicit definitions", () => {
  const r = resolve({ resources: ["mem=sum(100)", "gpus/nvidia=[3]", "fpga=2"] });
  assert.deepEqual(r.pools.map(poolJson), [
    { name: "cpus", kind: "groups", groups: [["0", "1", "2", "3"], ["4", "5", "6", "7"]] },
    { name: "mem", kind: "sum", size: 1_000_000 },
    { name: "gpus/nvidia", kind: "list", values: ["3"] },
    { name: "fpga", kind: "range", start: 0, end: 1 },
  ]);
  const cpus = resolve({ cpus: "2x2" });
  assert.deepEqual(cpus.pools[0]!.groups, [["0", "1"], ["2", "3"]]);
  const viaResource = resolve({ resources: ["gpus=1", "cpus=[8,9]"] });
  assert.deepEqual(viaResource.pools.map((p) => p.name), ["cpus", "gpus", "gpus/nvidia", "mem"]);
  assert.deepEqual(viaResource.pools[0]!.groups, [["8", "9"]]);
});

Deno.test("resolveWorkerResources() does not detect explicit resources (no warnings from them)", () => {
  const dupHost = host({ "/proc/meminfo": MEMINFO }, { CUDA_VISIBLE_DEVICES: "0,0" });
  const r = resolveWorkerResources({ resources: ["gpus/nvidia=[0]"] }, dupHost);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(
    planWorkerResources({ cpus: "4", detectResources: "cpus,mem" }).detect,
    new Set(["mem"]),
  );
});

Deno.test("resolveWorkerResources() follows --detect-resources", () => {
  const r = resolve({ cpus: "4", detectResources: "none" });
  assert.deepEqual(r.pools.map((p) => p.name), ["cpus"]);
  const gpusOnly = resolve({ cpus: "4", detectResources: "gpus/nvidia" });
  assert.deepEqual(gpusOnly.pools.map((p) => p.name), ["cpus", "gpus/nvidia"]);
});

const FLAG_ERRORS: [WorkerResourceFlags, RegExp][] = [
  [{ detectResources: "none" }, /--cpus is required when CPU detection is off/],
  [{ detectResources: "mem,gpus/nvidia" }, /--cpus is required/],
  [{ cpus: "4", resources: ["cpus=4"] }, /"cpus=4" for --resource: cannot be combined with --cpus/],
  [
    { resources: ["gpus=2", "gpus=[0]"] },
    /"gpus=\[0\]" for --resource: resource "gpus" is defined twice/,
  ],
  [{ resources: ["gpus"] }, /"gpus" for --resource: expected NAME=DEF/],
  [{ resources: ["9gpus=2"] }, /resource name "9gpus"/],
  [{ resources: ["gp_us=2"] }, /resource name "gp_us"/],
  [{ resources: ["gpus=two"] }, /gpus=two/],
  [{ cpus: "sum(4)" }, /"sum\(4\)" for --cpus: cpus cannot be a sum pool/],
  [{ resources: ["cpus=sum(4)"] }, /"cpus=sum\(4\)" for --resource: cpus cannot be a sum pool/],
  [{ cpus: "abc" }, /abc/],
  [{ detectResources: "cpus,disks" }, /--detect-resources: unknown item "disks"/],
];

for (const [flags, pattern] of FLAG_ERRORS) {
  Deno.test(`planWorkerResources() rejects ${JSON.stringify(flags)} in one line`, () => {
    assert.throws(() => planWorkerResources(flags), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes("\n"), "one line");
      return true;
    });
  });
}

Deno.test("mergeResources() puts cpus first and keeps explicit pools", () => {
  const pool = (name: string, label: string): ResourcePool => ({
    name,
    kind: "list",
    groups: [[label]],
    size: 0,
  });
  const merged = mergeResources(
    [pool("a", "x"), pool("cpus", "e")],
    [pool("cpus", "d"), pool("b", "d"), pool("a", "d")],
  );
  assert.deepEqual(merged.map((p) => `${p.name}:${p.groups[0]![0]}`), [
    "cpus:e",
    "a:x",
    "b:d",
  ]);
});

// ---- output ----------------------------------------------------------------------------------

Deno.test("renderHwdetect() prints HyperQueue's summary and full description", () => {
  const { pools } = resolve({ resources: ['tag=[a, "b c"]'] });
  assert.equal(
    renderHwdetect(pools),
    [
      "Summary:",
      "cpus: 2x4",
      "tag: 2",
      "gpus/nvidia: 2",
      "mem: 62.50 GiB",
      "",
      "Full Description:",
      "cpus: [[0,1,2,3],[4,5,6,7]]",
      "tag: [a,b c]",
      "gpus/nvidia: [0,1]",
      "mem: sum(64000)",
    ].join("\n"),
  );
  assert.equal(renderHwdetect([]), "Summary:\n\n\nFull Description:\n");
});
