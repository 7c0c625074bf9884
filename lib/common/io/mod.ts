/**
 * Randomness for names that must not collide (client and worker keys, the
 * server's uid).
 *
 * @module
 */
export * from "./liveness.ts";
export * from "./random.ts";
