/**
 * Fuzzing the text parsers: durations, id sets and selectors, task resource
 * requests, worker resource definitions and the \`hq\` command line, in process.
 * Each input parses into a value that holds its invariants or is refused with
 * one line (see \`tests/_fuzz.ts\` for \`HQ_FUZZ_SEED\` and \`HQ_FUZZ_RUNS\`).
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { assertCleanError, fuzz, fuzzTextArb, scaledRuns, timed } from "./_fuzz.ts";
import { MAX_ID, parseDuration, parseIdSet, parseSelector } from "../lib/common/mod.ts";
import {
  buildRequestVariants,
  buildWorkerPools,
  parseRequestAmount,
} from "../lib/resources/mod.ts";
import { validateJobSubmit, validateWorkerConfig } from "../lib/protocol/mod.ts";
import { argvArb, cliOracle, isId, job, SLOW_MS, workerConfig } from "./_fuzz_cases.ts";

// ---------------------------------------------------------------------------
// Text parsers

const DURATIONS = [
  "1h 5m",
  "90s",
  "01:30:00",
  "2 hours 5 minutes",
  "1500us",
  "15days 2min 2s",
  "0s",
  "1y",
  "3M",
  "100ms",
  "1w 2d",
  "5nsec",
];
const DURATION_TOKENS = ["h", "m", "s", "ms", "us", "ns", "d", "w", "M", "y", "min", "hours", ":"];

/** Inputs that found bugs (fixed: an input with a line break broke the message's line). */
const DURATION_FOUND = ["\nh", "5\nx", "1\u2028s", "1500us", `${"9".repeat(30)}y`, "01:60:00"];

Deno.test(`fuzz: durations (${scaledRuns(150)} inputs)`, () => {
  fuzz("durations", fuzzTextArb(DURATIONS, DURATION_TOKENS), (text) => {
    try {
      const ms = timed(
        `parseDuration(${JSON.stringify(text)})`,
        SLOW_MS,
        () => parseDuration(text),
      );
      assert.ok(Number.isFinite(ms) && ms >= 0, `parseDuration(${JSON.stringify(text)}) = ${ms}`);
    } catch (e) {
      assertCleanError(e, `parseDuration(${JSON.stringify(text)})`, {
        names: [text],
        pattern: /^Cannot parse duration /,
      });
    }
  }, { runs: scaledRuns(150), examples: DURATION_FOUND });
});

const ID_SETS = ["7", "1-10", "0-10:2", "1,3,5-8", "1_000-2_000", " 4 , 2 ", "0-4294967295"];
const ID_TOKENS = ["-", ",", ":", "_", "0", "1", "4294967295", "last", "all", " "];

/**
 * Inputs that found bugs (fixed): a line break in the message; a step expression of ten
 * million ids that took seconds to expand (now at most a million, all items together).
 */
const ID_SET_FOUND = ["\n", "1-\n2", "0-19999998:2", "0-4294967295:430", "0-1999998:2,3-1999999:2"];

Deno.test(`fuzz: id sets and selectors (${scaledRuns(150)} inputs)`, () => {
  fuzz("id sets", fuzzTextArb(ID_SETS, ID_TOKENS), (text) => {
    const what = `parseSelector(${JSON.stringify(text)})`;
    try {
      const sel = timed(what, SLOW_MS, () => parseSelector(text));
      if (sel.kind !== "ids") return;
      let prevEnd = -2;
      for (const r of sel.ids) {
        assert.ok(isId(r.start) && isId(r.end) && r.end <= MAX_ID, `${what}: range out of u32`);
        assert.ok(r.start <= r.end && r.start > prevEnd + 1, `${what}: ranges not normalized`);
        prevEnd = r.end;
      }
      assert.deepEqual(parseIdSet(text), sel.ids);
    } catch (e) {
      assertCleanError(e, what, { names: [text], pattern: /^Cannot parse id set / });
    }
  }, { runs: scaledRuns(150), examples: ID_SET_FOUND });
});

const REQUESTS = [
  "cpus=2",
  "gpus=2 | cpus=32",
  "cpus=2.5 gpus=1 compact!",
  "mem=100 scatter",
  "gpus/nvidia=0.25 tight",
  "cpus=all",
  "cpus=4 tight! gpus=1 | cpus=8",
];
const REQUEST_TOKENS = [
  "cpus=",
  "gpus=",
  "mem=",
  "=",
  "|",
  " ",
  "all",
  "compact",
  "compact!",
  "tight!",
  "scatter",
  "0.0001",
  "1.25",
];

/** `--cpus` and `--resource` values of `hq submit`. */
const requestFlagsArb = fc.record({
  cpus: fc.option(fuzzTextArb(["2", "4 compact!", "all", "0.5 scatter"], REQUEST_TOKENS), {
    nil: undefined,
  }),
  resources: fc.array(fuzzTextArb(REQUESTS, REQUEST_TOKENS), { maxLength: 3 }),
});

/** Inputs that found bugs (fixed: a line break in the message). */
const REQUEST_FOUND = [
  { cpus: undefined, resources: ["\r\n"] },
  { cpus: "1\n2", resources: [] },
  { cpus: undefined, resources: ["gpus=1 |\ncpus=2"] },
];

Deno.test(`fuzz: task resource requests (${scaledRuns(150)} inputs)`, () => {
  fuzz("resource requests", requestFlagsArb, ({ cpus, resources }) => {
    const what = `buildRequestVariants(${JSON.stringify({ cpus, resources })})`;
    const texts = [...(cpus === undefined ? [] : [cpus]), ...resources];
    try {
      const requests = timed(what, SLOW_MS, () =>
        buildRequestVariants({
          ...(cpus === undefined ? {} : { cpus }),
          resources,
          timeRequestMs: 0,
        }));
      // What the client builds, the server accepts.
      validateJobSubmit(job(1, requests));
    } catch (e) {
      assertCleanError(e, what, { names: texts, pattern: /^Cannot (parse|use|combine) / });
    }
    for (const text of texts) {
      const w = `parseRequestAmount("cpus", ${JSON.stringify(text)})`;
      try {
        parseRequestAmount("cpus", text);
      } catch (e) {
        assertCleanError(e, w, { names: [text], pattern: /^Cannot (parse|use) resource request / });
      }
    }
  }, { runs: scaledRuns(150), examples: REQUEST_FOUND });
});

const POOLS = [
  "cpus=4",
  "cpus=2x4",
  "gpus=[0,2,4]",
  'gpus=[a, b, "quoted, value"]',
  "cpus=[[0,1],[2,3]]",
  "cpus=range(0-7)",
  "mem=sum(1024)",
  "gpus/nvidia=[0]",
];
const POOL_TOKENS = ["[", "]", ",", '"', "x", "range(", "sum(", ")", "-", "=", "cpus", "99999"];

const poolFlagsArb = fc.record({
  cpus: fc.option(fuzzTextArb(["4", "2x4", "[0,1]", "range(0-3)"], POOL_TOKENS), {
    nil: undefined,
  }),
  resources: fc.array(fuzzTextArb(POOLS, POOL_TOKENS), { maxLength: 3 }),
});

/** Inputs that found bugs (fixed: a line break in the message). */
const POOL_FOUND = [
  { cpus: "", resources: ["::"] },
  { cpus: "[0,\n1]", resources: [] },
  { cpus: undefined, resources: ["gpus=[0,\u00001]"] },
];

Deno.test(`fuzz: worker resource definitions (${scaledRuns(150)} inputs)`, () => {
  fuzz("worker pools", poolFlagsArb, ({ cpus, resources }) => {
    const what = `buildWorkerPools(${JSON.stringify({ cpus, resources })})`;
    const texts = [...(cpus === undefined ? [] : [cpus]), ...resources];
    try {
      const pools = timed(
        what,
        SLOW_MS,
        () => buildWorkerPools({ ...(cpus === undefined ? {} : { cpus }), resources }),
      );
      // What the worker registers with, the server accepts.
      validateWorkerConfig({ ...workerConfig([]), resources: pools });
    } catch (e) {
      assertCleanError(e, what, { names: texts, pattern: /^Cannot (parse|use) / });
    }
  }, { runs: scaledRuns(150), examples: POOL_FOUND });
});

const ARGV_FOUND: string[][] = [
  ["job", "task-ids", "last", "--filter", "\u2028"],
  ["job", "info", "1\n2"],
  ["submit", "--cpus", "a\nb", "--", "x"],
  ["submit", "--time-limit", "1us", "--", "x"],
  ["submit", "--time-request", "1500us", "--", "x"],
  ["submit", "--max-fails", "99999999999999999999999", "--", "x"],
  ["submit", "--crash-limit", "1".repeat(400), "--", "x"],
  ["submit", "--env", "toString=1", "--env", "__proto__=2", "--", "x"],
  ["submit", "--name", "a\nb", "--", "x"],
];

Deno.test(`fuzz: command lines, in process (${scaledRuns(200)} inputs)`, () => {
  fuzz("argv", argvArb, (argv) => void cliOracle(argv), {
    runs: scaledRuns(200),
    examples: ARGV_FOUND,
  });
});
