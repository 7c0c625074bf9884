import assert from "node:assert/strict";
import {
  formatAllocationRequest,
  formatResourceVariants,
  humanMemAmount,
  type PoolText,
  resourcesFullDescribe,
  resourcesSummary,
} from "./resource_text.ts";

interface RustReference {
  /** [MiB, human_mem_amount text]. */
  mem: [number, string][];
}

const REFERENCE: RustReference = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/rust_reference.json", import.meta.url)),
);

const groups = (name: string, g: string[][]): PoolText => ({
  name,
  kind: "groups",
  groups: g,
  size: 0,
});

Deno.test("humanMemAmount() matches Rust's {:.2} formatting, ties to even", () => {
  for (const [mib, expected] of REFERENCE.mem) {
    assert.equal(humanMemAmount(mib), expected, `${mib}`);
  }
});

Deno.test("resourcesSummary() matches HyperQueue's unit test", () => {
  const pools: PoolText[] = [
    groups("cpus", [["0", "1", "2", "4"], ["10", "11", "12", "14"]]),
    { name: "gpus", kind: "list", groups: [["4", "7"]], size: 0 },
    { name: "mmmem", kind: "sum", groups: [], size: 1234 },
    groups("zzz", [
      ["0", "1"],
      ["10", "11"],
      ["20", "21"],
      ["30", "31"],
      ["40", "41"],
      ["50", "51", "52", "53", "54", "55"],
    ]),
  ];
  assert.equal(resourcesSummary(pools, false), "cpus 2x4; gpus 2; mmmem 1234; zzz 5x2 1x6");
  assert.equal(resourcesSummary(pools, true), "cpus: 2x4\ngpus: 2\nmmmem: 1234\nzzz: 5x2 1x6");
  assert.equal(
    resourcesSummary([groups("cpus", [["0"], ["1", "2"], ["3", "4", "5"]])], false),
    "cpus 1x1 1x2 1x3",
  );
  assert.equal(resourcesSummary([groups("cpus", [["0", "1", "2"]])], false), "cpus 3");
  assert.equal(resourcesSummary([], false), "");
});

Deno.test("resourcesFullDescribe() prints each kind as HyperQueue's hwdetect", () => {
  assert.equal(
    resourcesFullDescribe([
      groups("cpus", [["0", "1", "2", "4"], ["10", "11", "12", "14"]]),
      { name: "gpus", kind: "list", groups: [["a b", "7"]], size: 0 },
      { name: "one", kind: "range", groups: [["3"]], size: 0 },
      { name: "r", kind: "range", groups: [["2", "3", "4"]], size: 0 },
      { name: "mem", kind: "sum", groups: [], size: 15892 },
    ]),
    "cpus: [[0,1,2,4],[10,11,12,14]]\ngpus: [a b,7]\none: [3]\nr: range(2-4)\nmem: sum(15892)",
  );
});

Deno.test("formatAllocationRequest() prints tako's Display of each policy", () => {
  const e = (policy: "compact" | "forceCompact" | "tight" | "forceTight" | "scatter" | "all") => ({
    resource: "cpus",
    amount: 25000,
    policy,
  });
  assert.deepEqual(
    (["compact", "forceCompact", "tight", "forceTight", "scatter", "all"] as const).map((p) =>
      formatAllocationRequest(e(p))
    ),
    ["2.5 compact", "2.5 compact!", "2.5 tight", "2.5 tight!", "2.5 scatter", "all"],
  );
});

Deno.test("formatResourceVariants() sorts entries by name and shows whole-node requests", () => {
  assert.equal(
    formatResourceVariants([{
      n_nodes: 0,
      entries: [
        { resource: "gpus", amount: 10000, policy: "compact" },
        { resource: "cpus", amount: 20000, policy: "compact" },
      ],
    }]),
    "cpus: 2 compact\ngpus: 1 compact",
  );
  assert.equal(formatResourceVariants([{ n_nodes: 2, entries: [] }]), "nodes: 2");
});
