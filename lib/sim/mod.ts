/**
 * The deterministic simulation: the real server round and worker cores on
 * a simulated clock, seeded faults, and invariants checked after every step.
 *
 * @module
 */
export * from "./harness.ts";
export * from "./invariants.ts";
export * from "./progress.ts";
export * from "./scenario.ts";
export * from "./sim_server.ts";
export * from "./sim_worker.ts";
