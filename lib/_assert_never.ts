/**
 * Exhaustiveness guard for switches over discriminated unions.
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
