/**
 * Exhaustiveness guard for switches over discriminated unions: put it in the `default` of
 * every such switch, so that a new variant fails to compile at each decision point.
 *
 * @example Usage
 * ```ts
 * import { assertNever } from "./assert_never.ts";
 * import assert from "node:assert/strict";
 * type Shape = { kind: "circle"; r: number } | { kind: "square"; side: number };
 * function area(s: Shape): number {
 *   switch (s.kind) {
 *     case "circle":
 *       return Math.PI * s.r ** 2;
 *     case "square":
 *       return s.side ** 2;
 *     default:
 *       return assertNever(s, "shape");
 *   }
 * }
 * assert.equal(area({ kind: "square", side: 3 }), 9);
 * // Foreign input (say, decoded from a newer peer) reaches the guard at run time.
 * const foreign = { kind: "hexagon" } as unknown as Shape;
 * assert.throws(() => area(foreign), {
 *   name: "TypeError",
 *   message: 'Cannot handle shape: unknown value "hexagon"',
 * });
 * ```
 *
 * @param value The value that should have been narrowed to `never`.
 * @param what What was being switched on, for the error message.
 * @throws {TypeError} Always: reaching it means a case is missing or the input is foreign.
 */
export function assertNever(value: never, what: string): never {
  const shown = typeof value === "object" && value !== null && "kind" in value
    ? JSON.stringify((value as { kind: unknown }).kind)
    : JSON.stringify(value);
  throw new TypeError(`Cannot handle ${what}: unknown value ${shown}`);
}
