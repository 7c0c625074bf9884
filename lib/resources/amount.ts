/**
 * Fixed-point resource amounts: integers in 1/10000 of a unit, never floats.
 *
 * @module
 */
import { quote } from "../common/mod.ts";

/** Fractions per whole unit (HyperQueue's `FRACTIONS_PER_UNIT`). */
export const FRACTIONS_PER_UNIT = 10_000;

/** An amount in 1/10000 of a unit: `2.5` cpus is `25000`. */
export type Amount = number;

const AMOUNT_REGEXP = /^(\d+)(?:\.(\d{1,4}))?$/;

/**
 * Parses a decimal amount such as `2`, `0.5` or `1.2500` into fixed point.
 *
 * @example Usage
 * ```ts
 * import { parseAmount } from "./amount.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseAmount("2"), 20000);
 * assert.equal(parseAmount("0.25"), 2500);
 * assert.throws(() => parseAmount("0.00001"), SyntaxError);
 * ```
 *
 * @throws {SyntaxError} When the text is not a decimal with at most 4 fraction digits.
 * @throws {RangeError} When the amount exceeds the safe integer range.
 */
export function parseAmount(text: string): Amount {
  const match = AMOUNT_REGEXP.exec(text.trim());
  if (!match) {
    throw new SyntaxError(
      `Cannot parse amount ${quote(text)}: expected a number with at most 4 decimal places`,
    );
  }
  const units = Number(match[1]);
  const fraction = Number((match[2] ?? "").padEnd(4, "0"));
  const amount = units * FRACTIONS_PER_UNIT + fraction;
  if (!Number.isSafeInteger(amount)) {
    throw new RangeError(`Cannot parse amount ${quote(text)}: value is too large`);
  }
  return amount;
}

/**
 * The fixed-point amount of `units` whole units.
 *
 * @example Usage
 * ```ts
 * import { amountFromUnits } from "./amount.ts";
 * import assert from "node:assert/strict";
 * assert.equal(amountFromUnits(3), 30000);
 * assert.throws(() => amountFromUnits(-1), RangeError);
 * ```
 *
 * @throws {RangeError} When `units` is negative or the amount leaves the safe integer range.
 */
export function amountFromUnits(units: number): Amount {
  const amount = units * FRACTIONS_PER_UNIT;
  if (!Number.isSafeInteger(amount) || units < 0) {
    throw new RangeError(`Cannot create amount: invalid unit count ${units}`);
  }
  return amount;
}

/**
 * Whole units contained in an amount (rounded down).
 *
 * @example Usage
 * ```ts
 * import { wholeUnits } from "./amount.ts";
 * import assert from "node:assert/strict";
 * assert.equal(wholeUnits(25000), 2);
 * ```
 */
export function wholeUnits(amount: Amount): number {
  return Math.floor(amount / FRACTIONS_PER_UNIT);
}

/**
 * Fraction part of an amount, in 1/10000.
 *
 * @example Usage
 * ```ts
 * import { fractions } from "./amount.ts";
 * import assert from "node:assert/strict";
 * assert.equal(fractions(25000), 5000);
 * ```
 */
export function fractions(amount: Amount): number {
  return amount % FRACTIONS_PER_UNIT;
}

/**
 * Formats an amount as a decimal without trailing zeros; {@link parseAmount} reads it back.
 *
 * @example Usage
 * ```ts
 * import { formatAmount } from "./amount.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatAmount(20000), "2");
 * assert.equal(formatAmount(12500), "1.25");
 * assert.equal(formatAmount(1), "0.0001");
 * ```
 */
export function formatAmount(amount: Amount): string {
  const units = wholeUnits(amount);
  const frac = fractions(amount);
  if (frac === 0) return String(units);
  return `${units}.${String(frac).padStart(4, "0").replace(/0+$/, "")}`;
}
