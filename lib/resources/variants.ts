/**
 * Resource request variants from `hq submit` flags: `--cpus`, and `--resource` values such as
 * `"cpus=2.5 gpus=2 | cpus=32"` (one variant per `|`).
 *
 * @module
 */
import { quote } from "../common/mod.ts";
import { type Amount, amountFromUnits } from "./amount.ts";
import {
  DEFAULT_WEIGHT,
  formatRequestAmount,
  isValidResourceName,
  parseAmountAndPolicy,
  type ResourceEntry,
  type ResourceRequest,
  ResourceSpecSyntaxError,
} from "./request.ts";

/** Most variants one task may list (HyperQueue's limit). */
export const MAX_VARIANTS = 32;

/** The `hq submit` flags that make up a task's resource request. */
export interface RequestVariantsOptions {
  /** Value of `--cpus` (`<amount> [policy]` or `all`), if given. */
  cpus?: string;
  /** Values of `--resource`, in order. At most one may contain `|`. */
  resources: string[];
  /** Value of `--time-request` in ms (minimum remaining worker lifetime). */
  timeRequestMs: number;
  /** Weight of every variant (`--weight`), fixed point. @default {DEFAULT_WEIGHT} */
  weight?: Amount;
}

/** One flag value and the entries it names, for error messages and merging. */
interface FlagEntries {
  flag: string;
  text: string;
  entries: ResourceEntry[];
}

function quoteFlag(flag: string, text: string): string {
  return `${flag} ${quote(text)}`;
}

function syntaxError(flag: string, text: string, detail: string): ResourceSpecSyntaxError {
  return new ResourceSpecSyntaxError(text, `Cannot parse ${quoteFlag(flag, text)}: ${detail}`);
}

/**
 * Parses the entries of one alternative: `name=<amount> [policy]` items separated by whitespace.
 * `flag` and `text` name the whole flag value in error messages.
 */
function parseAlternative(flag: string, text: string, alternative: string): ResourceEntry[] {
  const tokens = alternative.trim().split(/\s+/).filter((t) => t !== "");
  if (tokens.length === 0) {
    throw syntaxError(flag, text, 'empty request (expected "name=<amount> [policy]")');
  }
  const entries: ResourceEntry[] = [];
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    const eq = token.indexOf("=");
    if (eq < 0) {
      throw syntaxError(flag, text, `expected "name=<amount> [policy]" but found ${quote(token)}`);
    }
    const name = token.slice(0, eq);
    const amount = token.slice(eq + 1);
    if (!isValidResourceName(name)) {
      throw syntaxError(
        flag,
        text,
        `invalid resource name ${quote(name)} (use an ASCII letter, then letters, digits or "/")`,
      );
    }
    if (amount === "") throw syntaxError(flag, text, `missing amount for ${quote(name)}`);
    let spec = amount;
    i++;
    if (i < tokens.length && !tokens[i]!.includes("=")) {
      spec = `${amount} ${tokens[i]}`;
      i++;
      if (i < tokens.length && !tokens[i]!.includes("=")) {
        throw syntaxError(
          flag,
          text,
          `unexpected ${quote(tokens[i]!)} after the policy of ${quote(name)}`,
        );
      }
    }
    const parsed = parseAmountAndPolicy(name, spec);
    if (!("resource" in parsed)) {
      if (parsed.kind === "range") {
        throw new RangeError(`Cannot use ${quoteFlag(flag, text)}: ${name} ${parsed.detail}`);
      }
      throw syntaxError(flag, text, `${name}: ${parsed.detail}`);
    }
    if (entries.some((e) => e.resource === name)) {
      throw syntaxError(flag, text, `resource ${quote(name)} is requested twice`);
    }
    entries.push(parsed);
  }
  return entries;
}

function sortEntries(entries: ResourceEntry[]): ResourceEntry[] {
  return [...entries].sort((
    a,
    b,
  ) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0));
}

/**
 * Builds the request variants of a task from its `--cpus`, `--resource` and `--time-request`
 * flags.
 *
 * Each `--resource` value holds entries separated by whitespace (`"cpus=2.5 gpus=2"`) and,
 * in at most one value, alternatives separated by `|`. Entries of the other flags are added to
 * every variant that does not name the resource itself; a variant without `cpus` gets
 * `cpus=1 compact`. Entries are sorted by name.
 *
 * @example Usage
 * ```ts
 * import { buildRequestVariants } from "./variants.ts";
 * import assert from "node:assert/strict";
 * const variants = buildRequestVariants({
 *   resources: ["gpus=2 | cpus=32", "mem=100"],
 *   timeRequestMs: 0,
 * });
 * assert.equal(variants.length, 2);
 * // The first variant gets the default `cpus=1`; both get `mem`.
 * assert.deepEqual(variants[0]!.entries.map((e) => [e.resource, e.amount]), [
 *   ["cpus", 10000],
 *   ["gpus", 20000],
 *   ["mem", 1000000],
 * ]);
 * assert.deepEqual(variants[1]!.entries.map((e) => [e.resource, e.amount]), [
 *   ["cpus", 320000],
 *   ["mem", 1000000],
 * ]);
 * ```
 *
 * @throws {ResourceSpecSyntaxError} On malformed text, invalid names, duplicate resources,
 * `--cpus` combined with a `cpus` entry, or `|` in more than one `--resource` value.
 * @throws {RangeError} On zero amounts, a bad time request or more than {@link MAX_VARIANTS}
 * variants.
 */
export function buildRequestVariants(options: RequestVariantsOptions): ResourceRequest[] {
  const { cpus, resources, timeRequestMs } = options;
  const weight = options.weight ?? DEFAULT_WEIGHT;
  if (!Number.isSafeInteger(weight) || weight <= 0) {
    throw new RangeError(`Cannot use weight ${weight}: expected a positive fixed-point amount`);
  }
  if (!Number.isSafeInteger(timeRequestMs) || timeRequestMs < 0) {
    throw new RangeError(
      `Cannot use time request ${timeRequestMs} ms: expected a non-negative integer`,
    );
  }
  const common: FlagEntries[] = [];
  let variantFlag: { text: string; alternatives: ResourceEntry[][] } | undefined;
  if (cpus !== undefined) {
    const parsed = parseAmountAndPolicy("cpus", cpus);
    if (!("resource" in parsed)) {
      if (parsed.kind === "range") {
        throw new RangeError(`Cannot use ${quoteFlag("--cpus", cpus)}: ${parsed.detail}`);
      }
      throw syntaxError("--cpus", cpus, parsed.detail);
    }
    common.push({ flag: "--cpus", text: cpus, entries: [parsed] });
  }
  for (const text of resources) {
    if (text.includes("|")) {
      if (variantFlag !== undefined) {
        throw new ResourceSpecSyntaxError(
          text,
          `Cannot combine ${quoteFlag("--resource", variantFlag.text)} with ${
            quoteFlag("--resource", text)
          }: only one --resource value may contain "|"`,
        );
      }
      const alternatives = text.split("|").map((alt) => parseAlternative("--resource", text, alt));
      if (alternatives.length > MAX_VARIANTS) {
        throw new RangeError(
          `Cannot use ${
            quoteFlag("--resource", text)
          }: ${alternatives.length} variants exceed the maximum of ${MAX_VARIANTS}`,
        );
      }
      variantFlag = { text, alternatives };
    } else {
      common.push({
        flag: "--resource",
        text,
        entries: parseAlternative("--resource", text, text),
      });
    }
  }
  const seen = new Map<string, FlagEntries>();
  for (const flag of common) {
    for (const entry of flag.entries) {
      const previous = seen.get(entry.resource);
      if (previous !== undefined) throw twiceError(previous, flag, entry.resource);
      seen.set(entry.resource, flag);
    }
  }
  const cpusFlag = common.find((f) => f.flag === "--cpus");
  if (cpusFlag !== undefined && variantFlag !== undefined) {
    if (variantFlag.alternatives.some((alt) => alt.some((e) => e.resource === "cpus"))) {
      throw twiceError(
        cpusFlag,
        { flag: "--resource", text: variantFlag.text, entries: [] },
        "cpus",
      );
    }
  }
  const commonEntries = common.flatMap((f) => f.entries);
  const alternatives = variantFlag?.alternatives ?? [[]];
  return alternatives.map((alt) => {
    const entries = [...alt];
    for (const entry of commonEntries) {
      if (!entries.some((e) => e.resource === entry.resource)) entries.push({ ...entry });
    }
    if (!entries.some((e) => e.resource === "cpus")) {
      entries.push({ resource: "cpus", amount: amountFromUnits(1), policy: "compact" });
    }
    const request: ResourceRequest = { entries: sortEntries(entries), minTimeMs: timeRequestMs };
    if (weight !== DEFAULT_WEIGHT) request.weight = weight;
    return request;
  });
}

function twiceError(first: FlagEntries, second: FlagEntries, resource: string): Error {
  if (first.flag === "--cpus" || second.flag === "--cpus") {
    const other = first.flag === "--cpus" ? second : first;
    const cpus = first.flag === "--cpus" ? first : second;
    return new ResourceSpecSyntaxError(
      other.text,
      `Cannot combine ${quoteFlag("--cpus", cpus.text)} with ${
        quoteFlag("--resource", other.text)
      }: cpus are requested twice`,
    );
  }
  return new ResourceSpecSyntaxError(
    second.text,
    `Cannot combine ${quoteFlag(first.flag, first.text)} with ${
      quoteFlag(second.flag, second.text)
    }: resource ${quote(resource)} is requested twice`,
  );
}

/**
 * Formats one request for humans, e.g. `cpus: 2.5 compact, gpus: 2 compact`.
 *
 * @example Usage
 * ```ts
 * import { formatRequest } from "./variants.ts";
 * import assert from "node:assert/strict";
 * const text = formatRequest({
 *   entries: [
 *     { resource: "cpus", amount: 0, policy: "all" },
 *     { resource: "gpus", amount: 5000, policy: "forceTight" },
 *   ],
 *   minTimeMs: 0,
 * });
 * assert.equal(text, "cpus: all, gpus: 0.5 tight!");
 * ```
 */
export function formatRequest(request: ResourceRequest): string {
  return request.entries.map((e) => `${e.resource}: ${formatRequestAmount(e)}`).join(", ");
}

/**
 * Formats request variants for `job info`'s Resources row.
 *
 * @example Usage
 * ```ts
 * import { buildRequestVariants, formatRequestVariants } from "./variants.ts";
 * import assert from "node:assert/strict";
 * const variants = buildRequestVariants({
 *   resources: ["cpus=2.5 gpus=2 | cpus=32"],
 *   timeRequestMs: 0,
 * });
 * assert.equal(
 *   formatRequestVariants(variants),
 *   "cpus: 2.5 compact, gpus: 2 compact | cpus: 32 compact",
 * );
 * ```
 */
export function formatRequestVariants(requests: readonly ResourceRequest[]): string {
  return requests.map(formatRequest).join(" | ");
}

/**
 * Formats request variants as one `--resource` value that {@link buildRequestVariants} reads
 * back.
 *
 * @example Usage
 * ```ts
 * import { buildRequestVariants, formatResourceFlag } from "./variants.ts";
 * import assert from "node:assert/strict";
 * const variants = buildRequestVariants({
 *   resources: ["cpus=2.5 gpus=2 | cpus=32"],
 *   timeRequestMs: 0,
 * });
 * const flag = formatResourceFlag(variants);
 * assert.equal(flag, "cpus=2.5 compact gpus=2 compact | cpus=32 compact");
 * assert.deepEqual(buildRequestVariants({ resources: [flag], timeRequestMs: 0 }), variants);
 * ```
 */
export function formatResourceFlag(requests: readonly ResourceRequest[]): string {
  return requests
    .map((r) => r.entries.map((e) => `${e.resource}=${formatRequestAmount(e)}`).join(" "))
    .join(" | ");
}
