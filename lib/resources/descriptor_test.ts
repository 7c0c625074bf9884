import assert from "node:assert/strict";
import {
  buildWorkerPools,
  formatPoolSummary,
  MAX_POOL_INDICES,
  parseCpusDef,
  parsePool,
  parseResourceDef,
  poolUnits,
  type ResourcePool,
} from "./descriptor.ts";
import { ResourceSpecSyntaxError } from "./request.ts";

const S = ResourceSpecSyntaxError;

function pool(
  name: string,
  kind: ResourcePool["kind"],
  groups: string[][],
  size = 0,
): ResourcePool {
  return { name, kind, groups, size };
}

Deno.test("parseResourceDef() reads every pool syntax", () => {
  const cases: [string, ResourcePool][] = [
    ["gpus=4", pool("gpus", "range", [["0", "1", "2", "3"]])],
    ["gpus=[0,1]", pool("gpus", "list", [["0", "1"]])],
    ["gpus=[ 7 , 3 ]", pool("gpus", "list", [["7", "3"]])],
    ['fpga=[a, b, "quoted, value"]', pool("fpga", "list", [["a", "b", "quoted, value"]])],
    ["gpus/nvidia=[x]", pool("gpus/nvidia", "list", [["x"]])],
    ["gpus=range(2-4)", pool("gpus", "range", [["2", "3", "4"]])],
    ["gpus=range( 5 - 5 )", pool("gpus", "range", [["5"]])],
    ["cpus=[[0,1],[2,3]]", pool("cpus", "groups", [["0", "1"], ["2", "3"]])],
    ['cpus=[ [ 0 , "a" ] , [ b ] ]', pool("cpus", "groups", [["0", "a"], ["b"]])],
    ["cpus=2x3", pool("cpus", "groups", [["0", "1", "2"], ["3", "4", "5"]])],
    ["cpus=1x2", pool("cpus", "groups", [["0", "1"]])],
    ["mem=sum(1024)", pool("mem", "sum", [], 1024)],
    ["mem=sum( 0 )", pool("mem", "sum", [], 0)],
    [" mem = sum(5) ", pool("mem", "sum", [], 5)],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseResourceDef(text), expected, text);
});

Deno.test("parseResourceDef() rejects bad definitions with the input in the message", () => {
  const name = `(use an ASCII letter, then letters, digits or "/")`;
  const expected = "expected N, NxM, [a,b,..], [[..],[..]], range(a-b) or sum(N)";
  const cases: [string, ErrorConstructor | typeof S, string][] = [
    ["gpus", S, `Cannot parse resource definition "gpus": expected "name=DEF"`],
    ["=4", S, `Cannot parse resource definition "=4": invalid resource name "" ${name}`],
    [
      "1gpu=4",
      S,
      `Cannot parse resource definition "1gpu=4": invalid resource name "1gpu" ${name}`,
    ],
    [
      "gpu-s=4",
      S,
      `Cannot parse resource definition "gpu-s=4": invalid resource name "gpu-s" ${name}`,
    ],
    ["gpus=", S, `Cannot parse resource "gpus=": ${expected}`],
    ["gpus=abc", S, `Cannot parse resource "gpus=abc": ${expected}`],
    ["gpus=-1", S, `Cannot parse resource "gpus=-1": ${expected}`],
    ["gpus=range(1-)", S, `Cannot parse resource "gpus=range(1-)": ${expected}`],
    ["gpus=sum(1.5)", S, `Cannot parse resource "gpus=sum(1.5)": ${expected}`],
    ["gpus=[]", S, `Cannot parse resource "gpus=[]": empty list`],
    ["gpus=[0,]", S, `Cannot parse resource "gpus=[0,]": empty value in list`],
    ["gpus=[0,,1]", S, `Cannot parse resource "gpus=[0,,1]": empty value in list`],
    ['gpus=[""]', S, `Cannot parse resource "gpus=[""]": empty value in list`],
    ["gpus=[0,1", S, `Cannot parse resource "gpus=[0,1": expected "]" but found end of text`],
    ['gpus=["a]', S, `Cannot parse resource "gpus=["a]": unterminated quoted value`],
    ["gpus=[0,1]x", S, `Cannot parse resource "gpus=[0,1]x": unexpected text after "]"`],
    ["gpus=[0,0]", S, `Cannot parse resource "gpus=[0,0]": duplicate values in list`],
    ["gpus=[[0,1],[1]]", S, `Cannot parse resource "gpus=[[0,1],[1]]": duplicate values in list`],
    ["gpus=[[0],1]", S, `Cannot parse resource "gpus=[[0],1]": expected "[" but found "1"`],
    ["gpus=[[0],[]]", S, `Cannot parse resource "gpus=[[0],[]]": empty list`],
    ["gpus=0", RangeError, `Cannot use resource "gpus=0": pool must not be empty`],
    ["gpus=0x4", RangeError, `Cannot use resource "gpus=0x4": pool must not be empty`],
    [
      "gpus=range(3-1)",
      RangeError,
      `Cannot use resource "gpus=range(3-1)": range end is before its start`,
    ],
    [
      `gpus=${MAX_POOL_INDICES + 1}`,
      RangeError,
      `Cannot use resource "gpus=${
        MAX_POOL_INDICES + 1
      }": pool has more than ${MAX_POOL_INDICES} indices`,
    ],
    [
      "gpus=1000x1000",
      RangeError,
      `Cannot use resource "gpus=1000x1000": pool has more than ${MAX_POOL_INDICES} indices`,
    ],
    [
      "mem=sum(99999999999999999)",
      RangeError,
      `Cannot use resource "mem=sum(99999999999999999)": sum size is too large`,
    ],
  ];
  for (const [text, cls, message] of cases) {
    assert.throws(() => parseResourceDef(text), (e: unknown) => {
      assert.ok(e instanceof cls, `${text}: ${e}`);
      assert.equal((e as Error).message, message);
      return true;
    });
  }
});

Deno.test("parsePool() validates the resource name", () => {
  assert.throws(
    () => parsePool("9x", "4"),
    new S(
      "4",
      `Cannot parse resource "9x=4": invalid resource name "9x" (use an ASCII letter, then letters, digits or "/")`,
    ),
  );
});

Deno.test("parseCpusDef() reads cpu layouts and rejects sum", () => {
  assert.deepEqual(parseCpusDef("4"), pool("cpus", "range", [["0", "1", "2", "3"]]));
  assert.deepEqual(parseCpusDef("2x1"), pool("cpus", "groups", [["0"], ["1"]]));
  assert.deepEqual(parseCpusDef("[[0],[2]]"), pool("cpus", "groups", [["0"], ["2"]]));
  assert.throws(() => parseCpusDef("sum(4)"), {
    name: "ResourceSpecSyntaxError",
    message: `Cannot parse --cpus "sum(4)": cpus cannot be a sum pool`,
  });
});

Deno.test("buildWorkerPools() combines --cpus and --resource values", () => {
  assert.deepEqual(buildWorkerPools({ cpus: "2x2", resources: ["gpus=[a,b]", "mem=sum(10)"] }), [
    pool("cpus", "groups", [["0", "1"], ["2", "3"]]),
    pool("gpus", "list", [["a", "b"]]),
    pool("mem", "sum", [], 10),
  ]);
  assert.deepEqual(buildWorkerPools({ resources: ["cpus=2"] }), [
    pool("cpus", "range", [["0", "1"]]),
  ]);
  const cases: [{ cpus?: string; resources: string[] }, string][] = [
    [
      { cpus: "4", resources: ["cpus=2"] },
      `Cannot use --resource "cpus=2": cannot be combined with --cpus "4"`,
    ],
    [
      { resources: ["gpus=2", "gpus=[0]"] },
      `Cannot use --resource "gpus=[0]": resource "gpus" is defined twice`,
    ],
    [
      { resources: ["cpus=sum(4)"] },
      `Cannot parse --resource "cpus=sum(4)": cpus cannot be a sum pool`,
    ],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => buildWorkerPools(options), (e: unknown) => {
      assert.ok(e instanceof S);
      assert.equal(e.message, message);
      return true;
    });
  }
});

Deno.test("poolUnits() and formatPoolSummary() describe pools", () => {
  const cases: [string, number, string][] = [
    ["cpus=2x4", 8, "cpus 2x4"],
    ["cpus=8", 8, "cpus 8"],
    ["cpus=[[0,1],[2]]", 3, "cpus 3"],
    ["gpus=[a,b]", 2, "gpus 2"],
    ["mem=sum(512)", 512, "mem 512"],
  ];
  for (const [text, units, summary] of cases) {
    const p = parseResourceDef(text);
    assert.equal(poolUnits(p), units, text);
    assert.equal(formatPoolSummary(p), summary, text);
  }
});
