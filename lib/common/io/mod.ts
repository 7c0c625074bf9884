/**
 * Process identity and liveness, work put off until the process waits anyway, randomness for names that must not collide
 * (client and worker keys, the server's uid), short synchronous pauses and
 * self-removing temporary directories.
 *
 * @module
 */
export * from "./idle_work.ts";
export * from "./liveness.ts";
export * from "./random.ts";
export * from "./sleep.ts";
export * from "./temp_dir.ts";
