/**
 * Randomness for names that must not collide: client and worker keys and the
 * server's uid (`crypto.getRandomValues`).
 *
 * @module
 */

/**
 * Random lowercase hex token of `bytes` bytes (so `2 * bytes` characters), for the keys of
 * clients and workers and the server's uid. Uses `crypto.getRandomValues`.
 *
 * @example Usage
 * ```ts
 * import { randomToken } from "./random.ts";
 * import assert from "node:assert/strict";
 * assert.match(randomToken(4), /^[0-9a-f]{8}$/);
 * assert.equal(randomToken().length, 16);
 * ```
 */
export function randomToken(bytes = 8): string {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
}
