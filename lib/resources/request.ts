/**
 * Resource requests of tasks (`--cpus 2`, `--cpus "4 compact!"`, `--cpus all`).
 *
 * @module
 */
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
  /** Requested amount in fixed point. */
  amount: Amount;
  /** Allocation policy. */
  policy: AllocationPolicy;
}

/** A request of one task variant. */
export interface ResourceRequest {
  /** Requested resources, sorted by name, at most one entry per name. */
  entries: ResourceEntry[];
  /** Minimum remaining worker lifetime to start, in ms. */
  minTimeMs: number;
}

/** Error for unparsable request or descriptor text; carries the input. */
export class ResourceSpecSyntaxError extends SyntaxError {
  /** The text that failed to parse. */
  readonly input: string;
  /** Creates the error for `input` with a full message. */
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

/**
 * Parses the amount part of a request: `<amount> [policy]` or `all`.
 *
 * @throws {ResourceSpecSyntaxError} On unknown policies or bad amounts.
 * @throws {RangeError} When the amount is zero.
 */
export function parseRequestAmount(
  resource: string,
  text: string,
): ResourceEntry {
  const parts = text.trim().split(/\s+/);
  if (parts.length === 1 && parts[0] === "all") {
    return { resource, amount: 0, policy: "all" };
  }
  if (parts.length < 1 || parts.length > 2 || parts[0] === "") {
    throw new ResourceSpecSyntaxError(
      text,
      `Cannot parse resource request "${resource}=${text}": expected "<amount> [policy]" or "all"`,
    );
  }
  let amount: Amount;
  try {
    amount = parseAmount(parts[0]!);
  } catch {
    throw new ResourceSpecSyntaxError(
      text,
      `Cannot parse resource request "${resource}=${text}": amount "${parts[0]}" is not a number`,
    );
  }
  if (amount === 0) {
    throw new RangeError(
      `Cannot use resource request "${resource}=${text}": amount must be positive`,
    );
  }
  let policy: AllocationPolicy = "compact";
  if (parts.length === 2) {
    const found = POLICY_TEXT[parts[1]!];
    if (found === undefined) {
      throw new ResourceSpecSyntaxError(
        text,
        `Cannot parse resource request "${resource}=${text}": unknown policy "${
          parts[1]
        }" (use compact, compact!, tight, tight!, scatter)`,
      );
    }
    policy = found;
  }
  return { resource, amount, policy };
}

/** Formats an entry's amount and policy as HyperQueue prints it (`4 compact`, `all`). */
export function formatRequestAmount(entry: ResourceEntry): string {
  if (entry.policy === "all") return "all";
  const policy = Object.entries(POLICY_TEXT).find(([, p]) => p === entry.policy)?.[0];
  return `${formatAmount(entry.amount)} ${policy}`;
}

/** The amount of `resource` asked for, or 0. */
export function requestedAmount(request: ResourceRequest, resource: string): Amount {
  return request.entries.find((e) => e.resource === resource)?.amount ?? 0;
}
