/**
 * JSON text exactly as HyperQueue prints it with `serde_json::to_string_pretty`:
 * object keys sorted (serde_json's `Map` is a `BTreeMap`), two-space indent,
 * `[]`/`{}` for empty containers, and f64 numbers that always show a fraction
 * or an exponent (`8.0`, `0.5`, `1e-6`, `1e16`). Integers are plain JS
 * numbers; a value that Rust holds as an `f64` is wrapped in {@link JsonFloat}
 * so that `8` prints as `8.0`.
 *
 * @module
 */

/**
 * An `f64` value: printed the way serde_json prints floats, so a whole number keeps its `.0`.
 *
 * @example Usage
 * ```ts
 * import { formatJson, JsonFloat } from "./json.ts";
 * import assert from "node:assert/strict";
 * const text = formatJson({ cpus: new JsonFloat(8), tasks: 8 });
 * assert.equal(text, '{\n  "cpus": 8.0,\n  "tasks": 8\n}');
 * ```
 */
export class JsonFloat {
  readonly value: number;
  /** Wraps `value`; {@link f64} is the shorthand. */
  constructor(value: number) {
    this.value = value;
  }
}

/** A value {@link formatJson} can print. `undefined` object members are left out. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonFloat
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

/**
 * Wraps a number as an f64 (shorthand for `new JsonFloat(value)`).
 *
 * @example Usage
 * ```ts
 * import { f64, formatJson } from "./json.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatJson([f64(2), 2, f64(0.5)]), "[\n  2.0,\n  2,\n  0.5\n]");
 * ```
 */
export function f64(value: number): JsonFloat {
  return new JsonFloat(value);
}

/**
 * Formats an f64 as serde_json (ryu's shortest round-trip digits) does:
 * `0.0`, `8.0`, `0.1`, `1.5030000000000001`, `0.00001`; values below 1e-5 and
 * from 1e16 on use an exponent (`1e-6`, `2.5e-8`, `1e16`,
 * `1.2345678901234568e17`). Non-finite values print `null`, as serde_json
 * does.
 *
 * @example Usage
 * ```ts
 * import { formatF64 } from "./json.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatF64(8), "8.0");
 * assert.equal(formatF64(1e-6), "1e-6");
 * assert.equal(formatF64(0.1 + 0.2), "0.30000000000000004");
 * assert.equal(formatF64(NaN), "null");
 * ```
 */
export function formatF64(value: number): string {
  if (!Number.isFinite(value)) return "null";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const sign = value < 0 ? "-" : "";
  // toExponential() without an argument gives the shortest round-trip digits.
  const [mantissa, exp] = Math.abs(value).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const length = digits.length;
  // value = 0.<digits> * 10^kk, as ryu's `format64` counts it.
  const kk = Number(exp) + 1;
  const k = kk - length;
  let text: string;
  if (k >= 0 && kk <= 16) text = `${digits}${"0".repeat(k)}.0`;
  else if (kk > 0 && kk <= 16) text = `${digits.slice(0, kk)}.${digits.slice(kk)}`;
  else if (kk > -5 && kk <= 0) text = `0.${"0".repeat(-kk)}${digits}`;
  else if (length === 1) text = `${digits}e${kk - 1}`;
  else text = `${digits[0]}.${digits.slice(1)}e${kk - 1}`;
  return sign + text;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "null";
  if (!Number.isInteger(value)) return formatF64(value);
  return Object.is(value, -0) ? "0" : String(value);
}

/** Keys with a defined value, in serde_json's order. */
function sortedKeys(obj: { readonly [key: string]: JsonValue | undefined }): string[] {
  const keys: string[] = [];
  let plain = true;
  for (const key in obj) {
    if (obj[key] === undefined) continue;
    keys.push(key);
    // Below the surrogates, UTF-16 order is UTF-8 byte order: the native sort will do.
    for (let i = 0; plain && i < key.length; i++) if (key.charCodeAt(i) >= 0xd800) plain = false;
  }
  return plain ? keys.sort() : keys.sort(compareKeys);
}

/**
 * Prints a document on one line as serde_json's `Display` does (keys sorted at every
 * level): a line of NDJSON.
 *
 * @example Usage
 * ```ts
 * import { f64, formatJsonLine } from "./json.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatJsonLine({ b: [1, f64(2)], a: "x" }), '{"a":"x","b":[1,2.0]}');
 * ```
 */
export function formatJsonLine(value: JsonValue): string {
  return render(value, null);
}

/**
 * The document pretty-printed (`indent` "") or on one line (null): the native fast path,
 * or the plain writer when the document holds the fast path's markers.
 */
function render(value: JsonValue, indent: "" | null): string {
  const marks: Marks = { floats: false, keys: false };
  let prepared: unknown;
  try {
    prepared = prepare(value, marks);
  } catch (e) {
    if (!(e instanceof MarkerClash)) throw e;
    const out: string[] = [];
    write(value, indent, out);
    return out.join("");
  }
  let text = indent === null ? JSON.stringify(prepared) : JSON.stringify(prepared, null, 2);
  if (marks.floats) text = text.replace(FLOAT_REGEXP, "$1");
  if (marks.keys) text = text.replaceAll(`"${KEY}`, '"');
  return text;
}

/** The plain writer: exact for every document, but slow for big ones; `null` indent: one line. */
function write(value: JsonValue, indent: string | null, out: string[]): void {
  if (value === null) {
    out.push("null");
  } else if (typeof value === "boolean") {
    out.push(value ? "true" : "false");
  } else if (typeof value === "number") {
    out.push(formatNumber(value));
  } else if (typeof value === "string") {
    out.push(JSON.stringify(value));
  } else if (value instanceof JsonFloat) {
    out.push(formatF64(value.value));
  } else if (Array.isArray(value)) {
    const items = value as readonly JsonValue[];
    if (items.length === 0) {
      out.push("[]");
      return;
    }
    if (indent === null) {
      out.push("[");
      items.forEach((item, i) => {
        if (i > 0) out.push(",");
        write(item, null, out);
      });
      out.push("]");
      return;
    }
    const inner = indent + "  ";
    out.push("[\n");
    items.forEach((item, i) => {
      out.push(inner);
      write(item, inner, out);
      out.push(i + 1 < items.length ? ",\n" : "\n");
    });
    out.push(indent, "]");
  } else {
    const obj = value as { readonly [key: string]: JsonValue | undefined };
    const keys = sortedKeys(obj);
    if (keys.length === 0) {
      out.push("{}");
      return;
    }
    if (indent === null) {
      out.push("{");
      keys.forEach((key, i) => {
        out.push(i > 0 ? "," : "", JSON.stringify(key), ":");
        write(obj[key]!, null, out);
      });
      out.push("}");
      return;
    }
    const inner = indent + "  ";
    out.push("{\n");
    keys.forEach((key, i) => {
      out.push(inner, JSON.stringify(key), ": ");
      write(obj[key]!, inner, out);
      out.push(i + 1 < keys.length ? ",\n" : "\n");
    });
    out.push(indent, "}");
  }
}

// The fast path hands a copy of the document to the native JSON.stringify: keys
// inserted in sorted order, f64 text wrapped in FLOAT marks (unwrapped after), and
// keys that are array indices (which JS objects would reorder) prefixed with KEY.
// Private-use characters, which JSON.stringify leaves as they are; a document that
// holds them itself takes the plain writer.
const FLOAT = "\ue000";
const KEY = "\ue001";
const FLOAT_REGEXP = /"\ue000([^"\ue000]*)\ue000"/g;
const INDEX_KEY_REGEXP = /^(0|[1-9][0-9]{0,9})$/;

class MarkerClash extends Error {}

/** What {@link prepare} put in: markers to take out again. */
interface Marks {
  floats: boolean;
  keys: boolean;
}

function clean(text: string): string {
  if (text.includes(FLOAT) || text.includes(KEY)) throw new MarkerClash();
  return text;
}

function prepare(value: JsonValue, marks: Marks): unknown {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (Number.isInteger(value) || !Number.isFinite(value)) return Object.is(value, -0) ? 0 : value;
    marks.floats = true;
    return `${FLOAT}${formatF64(value)}${FLOAT}`;
  }
  if (typeof value === "string") return clean(value);
  if (value instanceof JsonFloat) {
    marks.floats = true;
    return `${FLOAT}${formatF64(value.value)}${FLOAT}`;
  }
  if (Array.isArray(value)) {
    return (value as readonly JsonValue[]).map((item) => prepare(item, marks));
  }
  const obj = value as { readonly [key: string]: JsonValue | undefined };
  // A plain object, which V8 keeps fast (a prototype-less one is a dictionary, several times
  // slower to fill and to stringify); a `__proto__` key is defined as an ordinary member.
  const out: Record<string, unknown> = {};
  for (const key of sortedKeys(obj)) {
    let name = clean(key);
    if (INDEX_KEY_REGEXP.test(key)) {
      marks.keys = true;
      name = `${KEY}${key}`;
    }
    const item = prepare(obj[key]!, marks);
    if (name === "__proto__") {
      Object.defineProperty(out, name, { value: item, enumerable: true, writable: true });
    } else out[name] = item;
  }
  return out;
}

/**
 * Byte order of the UTF-8 encodings (serde_json's `BTreeMap<String, _>`
 * order), which is code point order: UTF-16 code units compare the same way
 * except a surrogate (a code point above U+FFFF) against a unit from U+E000 up.
 */
function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate && !ySurrogate && y >= 0xe000) return 1;
    if (ySurrogate && !xSurrogate && x >= 0xe000) return -1;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Prints a document as `serde_json::to_string_pretty` does, keys sorted at
 * every level. The text has no trailing newline: HyperQueue's `println!`
 * adds one, as `console.log` does.
 *
 * @example Usage
 * ```ts
 * import { f64, formatJson } from "./json.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatJson({ b: [], a: f64(8) }), '{\n  "a": 8.0,\n  "b": []\n}');
 * // `undefined` members are left out.
 * assert.equal(formatJson({ a: 1, b: undefined }), '{\n  "a": 1\n}');
 * ```
 */
export function formatJson(value: JsonValue): string {
  return render(value, "");
}

/**
 * {@link formatJson} without the fast path (for tests: both must agree).
 *
 * @example Usage
 * ```ts
 * import { f64, formatJson, formatJsonPlain } from "./json.ts";
 * import assert from "node:assert/strict";
 * const doc = { "10": 1, "9": [f64(1)], "é": "x" };
 * assert.equal(formatJsonPlain(doc), formatJson(doc));
 * ```
 */
export function formatJsonPlain(value: JsonValue): string {
  const out: string[] = [];
  write(value, "", out);
  return out.join("");
}
