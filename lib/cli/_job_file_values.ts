/**
 * Readers of parsed TOML values for the job file parser: each checks one
 * value's type and range and names the value's key path (`task[2].priority`)
 * when it rejects it, by throwing {@link JobFileProblem}. `job_file.ts` adds
 * the file name and turns the problem into a `JobFileError`.
 *
 * Integers come from smol-toml as `bigint` (it is called with
 * `integersAsBigInt`), so that `1` and `1.0` stay apart as TOML keeps them.
 *
 * @module
 */
import { MAX_ID, parseDurationMs, quote } from "../common/mod.ts";

/** A TOML table as smol-toml returns it. */
export type TomlTable = Record<string, unknown>;

/**
 * What is wrong with one value of a job file: `key` is its path (`task[0].priority`), or
 * null for the file as a whole; `unknownKey` marks a key the schema does not have.
 */
export class JobFileProblem extends Error {
  /** Key path of the value, or null for the file as a whole. */
  readonly key: string | null;
  /** Whether the key itself is unknown (then `detail` is empty). */
  readonly unknownKey: boolean;
  /** What is wrong, as a message tail. */
  readonly detail: string;
  /** Creates the problem; `unknownKey` marks a key the schema does not have. */
  constructor(key: string | null, detail: string, unknownKey = false) {
    super(detail);
    this.name = "JobFileProblem";
    this.key = key;
    this.detail = detail;
    this.unknownKey = unknownKey;
  }
}

/** Throws the problem `detail` for the value at `key`. */
export function fail(key: string | null, detail: string): never {
  throw new JobFileProblem(key, detail);
}

/** `prefix.key`, or `key` at the top level. */
export function keyPath(prefix: string, key: string): string {
  return prefix === "" ? key : `${prefix}.${key}`;
}

/** Whether `v` is a TOML table (not an array, not a date). */
export function isTable(v: unknown): v is TomlTable {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** The TOML type of a value, for "found ..." in messages. */
export function typeName(v: unknown): string {
  if (typeof v === "string") return "a string";
  if (typeof v === "bigint") return "an integer";
  if (typeof v === "number") return "a float";
  if (typeof v === "boolean") return "a boolean";
  if (v instanceof Date) return "a date-time";
  if (Array.isArray(v)) return "an array";
  return "a table";
}

/** Throws "expected ..., found ..." for the value at `key`. */
export function typeError(key: string, expected: string, v: unknown): never {
  fail(key, `expected ${expected}, found ${typeName(v)}`);
}

/** Rejects the first key of `table` (in file order) that is not in `allowed`. */
export function checkKeys(table: TomlTable, allowed: readonly string[], prefix: string): void {
  for (const key of Object.keys(table)) {
    if (!allowed.includes(key)) throw new JobFileProblem(keyPath(prefix, key), "", true);
  }
}

/** A string value. */
export function readString(v: unknown, key: string): string {
  if (typeof v !== "string") typeError(key, "a string", v);
  return v;
}

/** A string value that is not empty. */
export function readNonEmpty(v: unknown, key: string): string {
  const text = readString(v, key);
  if (text === "") fail(key, "must not be empty");
  return text;
}

/** A boolean value. */
export function readBool(v: unknown, key: string): boolean {
  if (typeof v !== "boolean") typeError(key, "a boolean", v);
  return v;
}

/** An integer value within `min..max`. */
export function readInt(v: unknown, key: string, min: number, max: number): number {
  if (typeof v !== "bigint") typeError(key, "an integer", v);
  if (v < BigInt(min) || v > BigInt(max)) {
    fail(key, `expected an integer in ${min}..${max}, found ${v}`);
  }
  return Number(v);
}

/** A task id: an integer that fits u32. */
export function readId(v: unknown, key: string): number {
  return readInt(v, key, 0, MAX_ID);
}

/** An integer or a float as decimal text, for the amount parsers; `expected` names the type. */
export function numberText(v: unknown, key: string, expected: string): string {
  if (typeof v === "bigint") return String(v);
  if (typeof v === "number") return String(v);
  typeError(key, expected, v);
}

/**
 * A duration in ms: a duration text (`"1h 30m"`, `"10s"`, `"01:30:00"`) or a number of
 * seconds (integer or float), rounded up to whole ms.
 */
export function readDurationMs(v: unknown, key: string): number {
  if (typeof v === "string") {
    try {
      return parseDurationMs(v);
    } catch (e) {
      fail(key, (e as Error).message);
    }
  }
  let seconds: number;
  if (typeof v === "bigint") seconds = Number(v);
  else if (typeof v === "number") seconds = v;
  else typeError(key, 'a duration such as "1h 30m" or a number of seconds', v);
  const ms = Math.ceil(seconds * 1000);
  if (!Number.isSafeInteger(ms) || ms < 0) {
    fail(key, `expected a duration of 0 seconds or more, found ${quote(String(v))}`);
  }
  return ms;
}

/** A list of strings. */
export function readStringList(v: unknown, key: string): string[] {
  if (!Array.isArray(v)) typeError(key, "an array of strings", v);
  return v.map((item, i) => readString(item, `${key}[${i}]`));
}

/** A list of tables, written `[[header]]` in the file. */
export function readTableList(v: unknown, key: string, header: string): TomlTable[] {
  if (!Array.isArray(v)) typeError(key, `an array of tables ([[${header}]])`, v);
  return v.map((item, i) => {
    if (!isTable(item)) typeError(`${key}[${i}]`, "a table", item);
    return item;
  });
}

/** A TOML value as JSON text (integers exactly, dates as their TOML text). */
export function tomlToJson(v: unknown, key: string): string {
  if (typeof v === "bigint") return String(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v)) fail(key, `cannot encode ${v} as JSON`);
    return JSON.stringify(v);
  }
  if (typeof v === "string" || typeof v === "boolean" || v instanceof Date) {
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map((x, i) => tomlToJson(x, `${key}[${i}]`)).join(",")}]`;
  const table = v as TomlTable;
  const fields = Object.keys(table).map((k) =>
    `${JSON.stringify(k)}:${tomlToJson(table[k], keyPath(key, k))}`
  );
  return `{${fields.join(",")}}`;
}
