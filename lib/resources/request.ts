/**
 * Resource requests of tasks (`--cpus 2`, `--cpus "4 compact!"`, `--cpus all`).
 *
 * @module
 */
import { quote } from "../common/mod.ts";
import { type Amount, formatAmount, parseAmount } from "./amount.ts";

/** How indices of a grouped pool are chosen (HyperQueue's `AllocationRequest`). */
export type AllocationPolicy =
  | "compact"
  | "forceCompact"
  | "tight"
  | "forceTight"
  | "scatter"
  | "all";

/** One requested resource. `amount` is 0 for the policy `all`. */
export interface ResourceEntry {
  /** Resource name, e.g. `cpus` or `gpus/nvidia`. */
  resource: string;
  /** Requested amount in 1/10000 of a unit; 0 for the policy `all`. */
  amount: Amount;
  policy: AllocationPolicy;
}

/**
 * A request of one task variant. A multi-node request (`nNodes > 0`, `hq submit --nodes N`)
 * has no entries: it takes N whole workers of one group exclusively.
 */
export interface ResourceRequest {
  /** Requested resources, sorted by name, at most one entry per name; empty when multi-node. */
  entries: ResourceEntry[];
  /** Minimum remaining worker lifetime to start, in ms. */
  minTimeMs: number;
  /** Number of whole workers for a multi-node task; absent or 0 for a single-node task. */
  nNodes?: number;
  /**
   * Weight in the scheduler's choice among tasks of equal priority (`--weight`), fixed point;
   * absent means {@link DEFAULT_WEIGHT} (1.0).
   */
  weight?: Amount;
}

/** Weight of a request that sets none: 1.0 in fixed point. */
export const DEFAULT_WEIGHT: Amount = 10_000;

/**
 * The weight of a request: {@link DEFAULT_WEIGHT} (1.0) when it sets none.
 *
 * @example Usage
 * ```ts
 * import { requestWeight } from "./request.ts";
 * import assert from "node:assert/strict";
 * assert.equal(requestWeight({ entries: [], minTimeMs: 0 }), 10000);
 * assert.equal(requestWeight({ entries: [], minTimeMs: 0, weight: 25000 }), 25000);
 * ```
 */
export function requestWeight(request: ResourceRequest): Amount {
  return request.weight ?? DEFAULT_WEIGHT;
}

/**
 * Whether a request asks for whole workers (`--nodes N` with N > 0).
 *
 * @example Usage
 * ```ts
 * import { isMultiNode } from "./request.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isMultiNode({ entries: [], minTimeMs: 0, nNodes: 2 }), true);
 * assert.equal(isMultiNode({ entries: [], minTimeMs: 0 }), false);
 * ```
 */
export function isMultiNode(request: ResourceRequest): boolean {
  return (request.nNodes ?? 0) > 0;
}

/**
 * Error for unparsable request or descriptor text; carries the input.
 *
 * @example Usage
 * ```ts
 * import { parseRequestAmount, ResourceSpecSyntaxError } from "./request.ts";
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => parseRequestAmount("cpus", "4 loose"),
 *   (e) => e instanceof ResourceSpecSyntaxError && e.input === "4 loose",
 * );
 * ```
 */
export class ResourceSpecSyntaxError extends SyntaxError {
  /** The text that failed to parse. */
  readonly input: string;
  /** `message` is the whole message; `input` is kept for callers that point at it. */
  constructor(input: string, message: string) {
    super(message);
    this.name = "ResourceSpecSyntaxError";
    this.input = input;
  }
}

const POLICY_TEXT: Record<string, AllocationPolicy> = {
  "compact": "compact",
  "compact!": "forceCompact",
  "tight": "tight",
  "tight!": "forceTight",
  "scatter": "scatter",
};

const RESOURCE_NAME_REGEXP = /^[A-Za-z][A-Za-z0-9/]*$/;

/**
 * Whether `name` is a valid resource name: an ASCII letter, then letters, digits or `/`.
 *
 * @example Usage
 * ```ts
 * import { isValidResourceName } from "./request.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isValidResourceName("gpus/nvidia"), true);
 * assert.equal(isValidResourceName("1gpu"), false);
 * ```
 */
export function isValidResourceName(name: string): boolean {
  return RESOURCE_NAME_REGEXP.test(name);
}

/** Problem found in `<amount> [policy]` text, before it is turned into an error. */
export type AmountProblem =
  | { kind: "syntax"; detail: string }
  | { kind: "range"; detail: string };

/**
 * Parses `<amount> [policy]` or `all` into an entry, or describes what is wrong.
 * The detail texts are message tails such as `amount "x" is not a number`, so that each
 * caller (`--cpus`, `--resource`, {@link parseRequestAmount}) words its own error.
 *
 * @example Usage
 * ```ts
 * import { parseAmountAndPolicy } from "./request.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseAmountAndPolicy("gpus", "2 scatter"), {
 *   resource: "gpus",
 *   amount: 20000,
 *   policy: "scatter",
 * });
 * assert.deepEqual(parseAmountAndPolicy("gpus", "0"), {
 *   kind: "range",
 *   detail: "amount must be positive",
 * });
 * ```
 */
export function parseAmountAndPolicy(
  resource: string,
  text: string,
): ResourceEntry | AmountProblem {
  const parts = text.trim().split(/\s+/);
  if (parts.length === 1 && parts[0] === "all") {
    return { resource, amount: 0, policy: "all" };
  }
  if (parts.length > 2 || parts[0] === "") {
    return { kind: "syntax", detail: `expected "<amount> [policy]" or "all"` };
  }
  if (parts[0] === "all") {
    return { kind: "syntax", detail: `"all" takes no policy` };
  }
  let amount: Amount;
  try {
    amount = parseAmount(parts[0]!);
  } catch {
    return { kind: "syntax", detail: `amount ${quote(parts[0]!)} is not a number` };
  }
  if (amount === 0) return { kind: "range", detail: "amount must be positive" };
  let policy: AllocationPolicy = "compact";
  if (parts.length === 2) {
    const found = Object.hasOwn(POLICY_TEXT, parts[1]!) ? POLICY_TEXT[parts[1]!] : undefined;
    if (found === undefined) {
      return {
        kind: "syntax",
        detail: `unknown policy ${
          quote(parts[1]!)
        } (use compact, compact!, tight, tight!, scatter)`,
      };
    }
    policy = found;
  }
  return { resource, amount, policy };
}

/**
 * Parses the amount part of a request: `<amount> [policy]` or `all`.
 *
 * @example Usage
 * ```ts
 * import { parseRequestAmount } from "./request.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseRequestAmount("cpus", "4 compact!"), {
 *   resource: "cpus",
 *   amount: 40000,
 *   policy: "forceCompact",
 * });
 * assert.throws(() => parseRequestAmount("cpus", "0"), RangeError);
 * ```
 *
 * @throws {ResourceSpecSyntaxError} On unknown policies or bad amounts.
 * @throws {RangeError} When the amount is zero.
 */
export function parseRequestAmount(
  resource: string,
  text: string,
): ResourceEntry {
  const result = parseAmountAndPolicy(resource, text);
  if ("resource" in result) return result;
  if (result.kind === "range") {
    throw new RangeError(
      `Cannot use resource request ${quote(`${resource}=${text}`)}: ${result.detail}`,
    );
  }
  throw new ResourceSpecSyntaxError(
    text,
    `Cannot parse resource request ${quote(`${resource}=${text}`)}: ${result.detail}`,
  );
}

/**
 * The CLI text of a policy (`compact!` for `forceCompact`).
 *
 * @example Usage
 * ```ts
 * import { formatPolicy } from "./request.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatPolicy("forceCompact"), "compact!");
 * assert.equal(formatPolicy("scatter"), "scatter");
 * ```
 */
export function formatPolicy(policy: AllocationPolicy): string {
  if (policy === "all") return "all";
  return Object.entries(POLICY_TEXT).find(([, p]) => p === policy)![0];
}

/**
 * Formats an entry's amount and policy as HyperQueue prints it (`4 compact`, `all`).
 *
 * @example Usage
 * ```ts
 * import { formatRequestAmount } from "./request.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   formatRequestAmount({ resource: "gpus", amount: 25000, policy: "scatter" }),
 *   "2.5 scatter",
 * );
 * assert.equal(formatRequestAmount({ resource: "cpus", amount: 0, policy: "all" }), "all");
 * ```
 */
export function formatRequestAmount(entry: ResourceEntry): string {
  if (entry.policy === "all") return "all";
  return `${formatAmount(entry.amount)} ${formatPolicy(entry.policy)}`;
}

/**
 * The amount of `resource` asked for (0 when absent or for the policy `all`).
 *
 * @example Usage
 * ```ts
 * import { requestedAmount } from "./request.ts";
 * import assert from "node:assert/strict";
 * const request = {
 *   entries: [{ resource: "gpus", amount: 5000, policy: "compact" as const }],
 *   minTimeMs: 0,
 * };
 * assert.equal(requestedAmount(request, "gpus"), 5000);
 * assert.equal(requestedAmount(request, "mem"), 0);
 * ```
 */
export function requestedAmount(request: ResourceRequest, resource: string): Amount {
  return request.entries.find((e) => e.resource === resource)?.amount ?? 0;
}
