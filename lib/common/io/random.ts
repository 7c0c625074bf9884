/**
 * Randomness for names that must not collide: client and worker keys and the
 * server's uid (`crypto.getRandomValues`), and quick ones for short-lived names.
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
  return hex(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * Like {@link randomToken}, from `Math.random`: for names that only need to differ from
 * others made at the same time by the same process id (a client's reply folder), where the
 * first use of Web Crypto (about 0.2 ms) would be a good share of a short command's work.
 *
 * @example Usage
 * ```ts
 * import { quickToken } from "./random.ts";
 * import assert from "node:assert/strict";
 * assert.match(quickToken(4), /^[0-9a-f]{8}$/);
 * assert.notEqual(quickToken(8), quickToken(8));
 * ```
 */
export function quickToken(bytes = 8): string {
  return hex(Uint8Array.from({ length: bytes }, () => Math.floor(Math.random() * 256)));
}

/** Lowercase hex of the bytes, two characters each. */
function hex(buf: Uint8Array): string {
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
}
