import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  fmtBytes,
  fmtCount,
  fullMakespanMs,
  progressFromFinishes,
  renderSuiteTable,
  type RunRecord,
  suiteRows,
  thinProgress,
  type Workload,
} from "./_suite_table.ts";

const W: Workload = {
  id: "true",
  title: "1,000 × true",
  tasks: 1000,
  cmd: ["true"],
  workerCpus: [2],
  netfs: false,
};

Deno.test("suiteRows() gives the ratio to the xargs record of the same workload", () => {
  const records: RunRecord[] = [
    {
      tool: "hq-files",
      workload: "true",
      tasks: 1000,
      makespanMs: 750,
      serverCpuS: 0.14,
      peakRssBytes: 90 * 1024 * 1024,
      journalBytes: 340 * 1024,
      filesCreated: 1,
    },
    { tool: "xargs -P", workload: "true", tasks: 1000, makespanMs: 500, filesCreated: 0 },
  ];
  deepStrictEqual(suiteRows([W], records), [
    [
      "hq-files",
      "1,000 × true",
      "0.75 s",
      "1,333",
      "1.50x",
      "0.14",
      "90.0 MiB",
      "340.0 KiB",
      "1.0",
    ],
    ["xargs -P", "1,000 × true", "0.50 s", "2,000", "1.00x", "N/A", "N/A", "N/A", "0.0"],
  ]);
});

Deno.test("suiteRows() scales an estimated makespan and shows skipped tools", () => {
  const records: RunRecord[] = [
    { tool: "xargs -P", workload: "true", tasks: 1000, makespanMs: 500 },
    { tool: "SLURM array", workload: "true", tasks: 20, makespanMs: 10_000, estimated: true },
    { tool: "Dask distributed", workload: "true", tasks: 1000, skipped: "not root" },
  ];
  const rows = suiteRows([W], records);
  strictEqual(rows[1]![2], "~500 s (from 20 tasks)");
  strictEqual(rows[1]![4], "1000.00x");
  strictEqual(rows[2]![2], "skipped: not root");
  strictEqual(fullMakespanMs(records[1]!, W), 500_000);
});

Deno.test("suiteRows() says n/a for the ratio when xargs did not run", () => {
  const rows = suiteRows([W], [{ tool: "hq-files", workload: "true", tasks: 1000, makespanMs: 1 }]);
  strictEqual(rows[0]![4], "n/a");
});

Deno.test("renderSuiteTable() lists each distinct note under the table", () => {
  const md = renderSuiteTable([W], [
    { tool: "xargs -P", workload: "true", tasks: 1000, makespanMs: 500, note: "sampled" },
  ]);
  strictEqual(md.endsWith("\n\n- xargs -P: sampled"), true);
});

Deno.test("progressFromFinishes() is a step curve from 0 to the last finish", () => {
  deepStrictEqual(progressFromFinishes([30, 10, 20]), [[0, 0], [10, 1], [20, 2], [30, 3]]);
  const many = progressFromFinishes(Array.from({ length: 1000 }, (_, i) => i), 100);
  strictEqual(many.length, 101);
  deepStrictEqual(many.at(-1), [999, 1000]);
  deepStrictEqual(progressFromFinishes([]), [[0, 0]]);
});

Deno.test("thinProgress() keeps the first and the last point", () => {
  const points = Array.from({ length: 1001 }, (_, i) => [i, i] as [number, number]);
  const thin = thinProgress(points, 100);
  deepStrictEqual(thin[0], [0, 0]);
  deepStrictEqual(thin.at(-1), [1000, 1000]);
  strictEqual(thin.length <= 102, true);
});

Deno.test("fmtBytes() and fmtCount() format for the table", () => {
  strictEqual(fmtBytes(512), "512 B");
  strictEqual(fmtBytes(1536), "1.5 KiB");
  strictEqual(fmtCount(10000), "10,000");
  strictEqual(fmtCount(999), "999");
});
