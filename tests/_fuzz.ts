/**
 * Fuzzing helpers for the `fuzz_*_test.ts` files and `tools/fuzz.ts`: the seed and the
 * number of cases (from the environment), a fast-check driver that names the
 * seed to rerun on failure, the check that an error is one of the project's
 * own with a one-line message, and generators of random and mutated inputs
 * (texts, argument lists, JSON values).
 *
 * - `HQ_FUZZ_SEED=<int>` replays a run (every category derives its own seed
 *   from it and its name, so categories do not shift each other). Without it
 *   a fresh seed is drawn and printed by any failure.
 * - `HQ_FUZZ_RUNS=<n>` sets the cases of each in-process category (default
 *   {@link DEFAULT_RUNS}); the process-level categories scale in proportion.
 * - `HQ_FUZZ_TRACE=<file>`: the process-level command-line test appends each
 *   command line it runs, with its exit code, to the file.
 *
 * Inputs are fast-check arbitraries, so an in-process failure shrinks to a
 * small counterexample; process-level ones stop at the first failure.
 *
 * @module
 */
import fc from "fast-check";

/** Cases of one in-process category when `HQ_FUZZ_RUNS` is not set. */
export const DEFAULT_RUNS = 150;

function envInt(name: string): number | undefined {
  const text = Deno.env.get(name);
  if (text === undefined || text === "") return undefined;
  if (!/^-?\d+$/.test(text)) throw new RangeError(`Cannot use ${name}="${text}": not an integer`);
  return Number(text);
}

/** The run's seed: `HQ_FUZZ_SEED`, or a fresh one. */
export const FUZZ_SEED: number = envInt("HQ_FUZZ_SEED") ??
  crypto.getRandomValues(new Uint32Array(1))[0]! >>> 1;

const RUNS = envInt("HQ_FUZZ_RUNS") ?? DEFAULT_RUNS;

/** `defaultRuns` scaled by `HQ_FUZZ_RUNS` (relative to {@link DEFAULT_RUNS}); at least 1. */
export function scaledRuns(defaultRuns: number): number {
  return Math.max(1, Math.round((defaultRuns * RUNS) / DEFAULT_RUNS));
}

/** A category's own seed: the run's seed mixed with the category name (FNV-1a). */
export function categorySeed(category: string): number {
  let h = 0x811c9dc5 ^ FUZZ_SEED;
  for (let i = 0; i < category.length; i++) {
    h = Math.imul(h ^ category.charCodeAt(i), 0x01000193);
  }
  return (h >>> 1) | 0;
}

/** Options of {@link fuzz} and {@link fuzzAsync}. */
export interface FuzzOptions<T> {
  /** Number of cases. */
  runs: number;
  /** Shrink a failing case (cheap in-process checks only). @default {true} */
  shrink?: boolean;
  /**
   * Inputs checked first, on every run whatever the seed: the ones that found bugs, so a
   * fixed bug stays fixed and an open one keeps failing.
   * @default {[]}
   */
  examples?: readonly T[];
}

function rethrow(category: string, e: unknown): never {
  const detail = e instanceof Error ? e.message : String(e);
  throw new Error(
    `fuzz category "${category}" failed; rerun with HQ_FUZZ_SEED=${FUZZ_SEED}\n${detail}`,
    { cause: e },
  );
}

/**
 * Checks `runs` inputs of `arb` with `check` (which throws on a failure). On failure the error
 * names the category, the seed to rerun with, and the (shrunk) counterexample.
 */
export function fuzz<T>(
  category: string,
  arb: fc.Arbitrary<T>,
  check: (input: T) => void,
  options: FuzzOptions<T>,
): void {
  try {
    fc.assert(fc.property(arb, (input) => check(input)), {
      seed: categorySeed(category),
      numRuns: options.runs,
      endOnFailure: options.shrink === false,
      examples: (options.examples ?? []).map((e) => [e] as [T]),
    });
  } catch (e) {
    rethrow(category, e);
  }
}

/** {@link fuzz} for an asynchronous check; never shrinks (every case costs real processes). */
export async function fuzzAsync<T>(
  category: string,
  arb: fc.Arbitrary<T>,
  check: (input: T) => Promise<void>,
  runs: number,
): Promise<void> {
  try {
    await fc.assert(fc.asyncProperty(arb, (input) => check(input)), {
      seed: categorySeed(category),
      numRuns: runs,
      endOnFailure: true,
    });
  } catch (e) {
    rethrow(category, e);
  }
}

/** Draws `n` values of `arb` for `category` (deterministic for a seed). */
export function sampleInputs<T>(category: string, arb: fc.Arbitrary<T>, n: number): T[] {
  return fc.sample(arb, { seed: categorySeed(category), numRuns: n });
}

// ---------------------------------------------------------------------------
// Errors

/**
 * Messages the JavaScript engine writes (property access on undefined, stack
 * overflow, bad lengths, BigInt conversion, JSON.parse), never the project.
 */
export const ENGINE_MESSAGE_REGEXP = new RegExp(
  [
    "Cannot read propert",
    "Cannot set propert",
    "Cannot convert",
    "Cannot destructure",
    "Cannot create property",
    "is not a function",
    "is not iterable",
    "is not defined",
    "is not a constructor",
    "(undefined|null) is not (a function|an object|iterable)",
    "Maximum call stack",
    "Invalid array length",
    "Invalid string length",
    "Invalid typed array length",
    "Invalid time value",
    "Invalid count value",
    "Invalid code point",
    "toFixed\\(\\)",
    "toPrecision\\(\\)",
    "radix must be",
    "cannot be converted to a BigInt",
    "Division by zero",
    "Maximum BigInt size",
    "Array buffer allocation failed",
    "Unexpected token",
    "Unexpected end of JSON",
    "is not valid JSON",
    "in JSON at position",
    "Reduce of empty array",
    "out of memory",
  ].join("|"),
);

/** Options of {@link assertCleanError}. */
export interface CleanErrorOptions {
  /**
   * Texts of which the message must contain at least one (the inputs); not checked
   * unless all are short and printable.
   */
  names?: readonly string[];
  /** A pattern the message must match (e.g. `/^Cannot decode/`). */
  pattern?: RegExp;
}

const PRINTABLE_REGEXP = /^[\x20-\x7e]{1,80}$/;

/**
 * Throws unless `e` is an error the project raised on purpose: an `Error` (not a
 * `ReferenceError`) with a non-empty one-line message that is not one of the
 * engine's ({@link ENGINE_MESSAGE_REGEXP}) and names the input.
 */
export function assertCleanError(e: unknown, what: string, options: CleanErrorOptions = {}): void {
  const fail = (why: string): never => {
    const shown = e instanceof Error ? `${e.name}: ${JSON.stringify(e.message)}` : String(e);
    throw new Error(`${what}: ${why}; got ${shown}`, { cause: e });
  };
  if (!(e instanceof Error)) return fail("threw a non-Error");
  if (e instanceof ReferenceError || e instanceof EvalError) fail("threw an engine error class");
  if (typeof e.message !== "string" || e.message.trim() === "") fail("empty error message");
  if (/[\r\n]/.test(e.message)) fail("error message is not one line");
  if (ENGINE_MESSAGE_REGEXP.test(e.message)) fail("error message is the engine's");
  if (options.pattern && !options.pattern.test(e.message)) {
    fail(`error message does not match ${options.pattern}`);
  }
  // Names are checked only when every one is short and printable (a message may shorten or
  // escape the others), and regardless of whitespace (a message may show the input trimmed).
  const names = options.names ?? [];
  const bare = (text: string) => text.replace(/\s+/g, "");
  if (
    names.length > 0 && names.every((n) => PRINTABLE_REGEXP.test(n)) &&
    !names.some((n) => bare(e.message).includes(bare(n)))
  ) {
    fail(`error message names none of ${JSON.stringify(names)}`);
  }
}

/**
 * Runs `fn` and returns its result; throws when it took longer than `limitMs` (a parser
 * that nearly hangs on some input). A throw of `fn` goes through as it is.
 */
export function timed<T>(what: string, limitMs: number, fn: () => T): T {
  const start = performance.now();
  const result = fn();
  const took = performance.now() - start;
  if (took > limitMs) {
    throw new Error(`${what}: took ${Math.round(took)} ms, more than ${limitMs} ms`);
  }
  return result;
}

// ---------------------------------------------------------------------------
// Texts

/** Strings that break parsers: empty, blanks, control characters, huge numbers, odd unicode. */
export const SPECIAL_STRINGS: readonly string[] = [
  "",
  " ",
  "\t",
  "\n",
  "\r\n",
  "\0",
  "\x1b[31m",
  "\u2028",
  "\ufeff",
  "\ud800",
  "é",
  "日本",
  "🙂",
  "-",
  "--",
  "---",
  "-1",
  "-0",
  "0",
  "00",
  "1e3",
  "1e999",
  "0x10",
  "0b1",
  "1_000",
  "_",
  "1.",
  ".5",
  "1.00001",
  "NaN",
  "Infinity",
  "-Infinity",
  "undefined",
  "null",
  "true",
  "[]",
  "{}",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "9007199254740993",
  "4294967295",
  "4294967296",
  "18446744073709551616",
  "9".repeat(400),
  "1".repeat(5000),
  "a".repeat(10_000),
  "[".repeat(5000),
  "(".repeat(5000),
  "%{",
  "%{TASK_ID}",
  "%{CWD}",
  "%{NOPE}",
  "$(touch /tmp/x)",
  "'",
  '"',
  "\\",
  "=",
  "==",
  "|",
  "||",
  ":",
  "::",
  ",",
  ",,",
];

/**
 * Random text: ASCII, arbitrary code units (lone surrogates included), the
 * {@link SPECIAL_STRINGS}, and soups of `tokens` (the grammar's own words, so the
 * text gets past the first check more often).
 */
export function textArb(tokens: readonly string[] = []): fc.Arbitrary<string> {
  const soupWords = [...tokens, ...SPECIAL_STRINGS.filter((s) => s.length < 20)];
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 24 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 16 }) },
    { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
    {
      weight: 4,
      arbitrary: fc.array(fc.constantFrom(...soupWords), { minLength: 1, maxLength: 6 }).chain((
        words,
      ) =>
        fc.array(fc.constantFrom("", " ", "  ", "\t"), {
          minLength: words.length,
          maxLength: words.length,
        }).map((seps) => words.map((w, i) => w + seps[i]).join(""))
      ),
    },
  );
}

/** One edit of a text, drawn by fast-check and applied by {@link applyTextEdit}. */
export interface TextEdit {
  op: number;
  at: number;
  len: number;
  piece: string;
}

function textEditArb(pieces: fc.Arbitrary<string>): fc.Arbitrary<TextEdit> {
  return fc.record({ op: fc.nat(8), at: fc.nat(), len: fc.nat(8), piece: pieces });
}

/** Applies one edit: insert, delete, replace, duplicate, truncate, repeat, case flip, control char. */
export function applyTextEdit(text: string, edit: TextEdit): string {
  const at = text.length === 0 ? 0 : edit.at % (text.length + 1);
  switch (edit.op) {
    case 0:
      return text.slice(0, at) + edit.piece + text.slice(at);
    case 1:
      return text.slice(0, at) + text.slice(at + edit.len + 1);
    case 2:
      return text.slice(0, at) + edit.piece + text.slice(at + edit.len + 1);
    case 3:
      return text.slice(0, at) + text.slice(at, at + edit.len + 1).repeat(2) + text.slice(at);
    case 4:
      return text.slice(0, at);
    case 5:
      return text.repeat(edit.len + 2);
    case 6:
      return text.slice(0, at) + text.slice(at).toUpperCase();
    case 7:
      return text.slice(0, at) + String.fromCharCode(edit.len * 4) + text.slice(at);
    default:
      return text + edit.piece;
  }
}

/** Valid `examples` with one to three {@link TextEdit}s, pieces drawn from `tokens`. */
export function mutatedTextArb(
  examples: readonly string[],
  tokens: readonly string[] = [],
): fc.Arbitrary<string> {
  const pieces = fc.oneof(
    fc.constantFrom(...tokens, ...SPECIAL_STRINGS.filter((s) => s.length < 20)),
    fc.string({ unit: "binary-ascii", maxLength: 4 }),
  );
  return fc.tuple(
    fc.constantFrom(...examples),
    fc.array(textEditArb(pieces), { minLength: 1, maxLength: 3 }),
  ).map(([text, edits]) => edits.reduce(applyTextEdit, text));
}

/** Random or mutated text, in equal parts. */
export function fuzzTextArb(
  examples: readonly string[],
  tokens: readonly string[] = [],
): fc.Arbitrary<string> {
  return fc.oneof(textArb(tokens), mutatedTextArb(examples, tokens), fc.constantFrom(...examples));
}

// ---------------------------------------------------------------------------
// JSON values

/** A deeply nested array, as JSON text and as value (built without recursion). */
export function deepArray(depth: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Values that break decoders and validators when put in place of a field. */
export const WEIRD_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1.5,
  -1.5,
  0.0001,
  2 ** 31,
  2 ** 32,
  -(2 ** 31),
  2 ** 53,
  2 ** 53 + 2,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  1e308,
  -1e308,
  5e-324,
  "",
  "0",
  "1",
  "-1",
  "NaN",
  "Infinity",
  "1e999",
  "x",
  "\n",
  "a\nb",
  "\u0000",
  "../../etc",
  "/",
  "a".repeat(100_000),
  [],
  [null],
  [[]],
  [0],
  [-1],
  ["x"],
  {},
  JSON.parse('{"__proto__":{"polluted":1}}'),
  JSON.parse('{"constructor":{"prototype":{}}}'),
  { "length": 1e9 },
  { "start": 0, "end": 4294967295 },
  { "start": -1, "end": -5 },
  { "start": "0", "end": "1" },
  new Array(2000).fill(0),
  deepArray(3000),
];

const weirdArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...WEIRD_VALUES) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

/** One structural edit of a JSON value, applied by {@link applyJsonEdit}. */
export interface JsonEdit {
  /** Which node (index into the node list, modulo its length). */
  at: number;
  op: number;
  value: unknown;
  /** Index into the kinds list, for the op that changes a `kind`. */
  kind: number;
}

interface Slot {
  parent: Record<string, unknown> | unknown[] | null;
  key: string | number;
  value: unknown;
}

/** Every node of `root` (the root itself first, parent null), breadth first, at most 500. */
function slots(root: unknown): Slot[] {
  const out: Slot[] = [{ parent: null, key: "", value: root }];
  for (let i = 0; i < out.length && out.length < 500; i++) {
    const v = out[i]!.value;
    if (Array.isArray(v)) {
      v.slice(0, 50).forEach((x, k) => out.push({ parent: v, key: k, value: x }));
    } else if (typeof v === "object" && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        out.push({ parent: v as Record<string, unknown>, key: k, value: x });
      }
    }
  }
  return out;
}

function set(slot: Slot, value: unknown): void {
  if (Array.isArray(slot.parent)) slot.parent[slot.key as number] = value;
  else if (slot.parent) Object.defineProperty(slot.parent, slot.key, { value, enumerable: true });
}

function remove(slot: Slot): void {
  if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
  else if (slot.parent) delete slot.parent[slot.key as string];
}

function nearby(value: unknown): unknown {
  if (typeof value === "number") {
    return [value + 1, value - 1, -value, value * 1e6, value + 0.5, 2 ** 53, -1][
      Math.abs(Math.trunc(value)) % 7
    ];
  }
  if (typeof value === "string") return value === "" ? "x" : value + value.slice(-1).repeat(3);
  if (typeof value === "boolean") return !value;
  return value;
}

/**
 * Applies one edit to `root` (mutated in place; the new root is returned): replace a node
 * with a weird value, delete it, add a sibling, nudge it (number ± 1, huge, negative,
 * fraction), wrap it in an array, repeat an array's items, change its type to a string,
 * or set a `kind` to another of `kinds`.
 */
export function applyJsonEdit(root: unknown, edit: JsonEdit, kinds: readonly string[]): unknown {
  const all = slots(root);
  const slot = all[edit.at % all.length]!;
  // Weird values are shared constants: edit a copy (JSON keeps deep nesting; -0 by hand).
  edit = { ...edit, value: Object.is(edit.value, -0) ? -0 : cloneJson(edit.value) };
  const replace = (value: unknown) => {
    if (slot.parent === null) root = value;
    else set(slot, value);
  };
  switch (edit.op % 9) {
    case 0:
      replace(edit.value);
      break;
    case 1:
      if (slot.parent === null) root = undefined;
      else remove(slot);
      break;
    case 2:
      if (Array.isArray(slot.value)) slot.value.push(edit.value);
      else if (typeof slot.value === "object" && slot.value !== null) {
        (slot.value as Record<string, unknown>)[`extra${edit.kind}`] = edit.value;
      } else replace(edit.value);
      break;
    case 3:
      replace(nearby(slot.value));
      break;
    case 4:
      replace([slot.value]);
      break;
    case 5:
      if (Array.isArray(slot.value) && slot.value.length > 0) {
        replace(Array.from({ length: 1000 }, (_, i) => (slot.value as unknown[])[i % 2]));
      } else replace(edit.value);
      break;
    case 6:
      replace(typeof slot.value === "string" ? Number(slot.value) : JSON.stringify(slot.value));
      break;
    case 7: {
      const withKind = all.filter((s) =>
        typeof s.value === "object" && s.value !== null && "kind" in s.value
      );
      const target = withKind[edit.at % Math.max(1, withKind.length)];
      if (target && kinds.length > 0) {
        (target.value as Record<string, unknown>).kind = kinds[edit.kind % kinds.length];
      } else replace(edit.value);
      break;
    }
    default:
      replace(nearby(slot.value));
  }
  return root;
}

/**
 * Valid `examples` (JSON-compatible values, cloned per case) with one to three
 * {@link JsonEdit}s; `kinds` are the message kinds an edit may switch to.
 */
export function mutatedJsonArb(
  examples: readonly unknown[],
  kinds: readonly string[] = [],
): fc.Arbitrary<unknown> {
  const edit = fc.record({ at: fc.nat(), op: fc.nat(), value: weirdArb, kind: fc.nat() });
  return fc.tuple(
    fc.nat(examples.length - 1),
    fc.array(edit, { minLength: 1, maxLength: 3 }),
  ).map(([i, edits]) => {
    let value = cloneJson(examples[i]);
    for (const e of edits) value = applyJsonEdit(value, e, kinds);
    return value;
  });
}

/**
 * JSON texts for a decoder: mutated valid messages (mostly), the same with a text
 * edit on top (broken JSON, cut short), random JSON values and random text.
 */
export function jsonTextArb(
  examples: readonly unknown[],
  kinds: readonly string[] = [],
): fc.Arbitrary<string> {
  const texts = examples.map((e) => JSON.stringify(e));
  return fc.oneof(
    { weight: 6, arbitrary: mutatedJsonArb(examples, kinds).map(stringifyOrNull) },
    { weight: 2, arbitrary: mutatedTextArb(texts, ['"', "{", "}", "[", "]", ",", ":", "null"]) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: textArb(["{", "}", '"v":', '"kind":']) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "[".repeat(100_000) + "]".repeat(100_000),
        '{"v":1,"a":' + "[".repeat(50_000) + "]".repeat(50_000) + "}",
        "\ufeff{}",
        "{}",
        "null",
        "",
      ),
    },
  );
}

/** A copy of a JSON-compatible value (undefined stays undefined). */
export function cloneJson(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/**
 * `JSON.stringify(value)`, or `"null"` for a value without JSON (undefined) or one too big
 * for a string (a generated value can nest huge strings).
 */
export function stringifyOrNull(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "null";
  } catch (e) {
    if (e instanceof RangeError) return "null";
    throw e;
  }
}
