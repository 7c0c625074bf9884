/**
 * The worker's pure parts: `WorkerCore` (which task runs when, on which
 * resources), and the policies of its shell: when to send updates and
 * heartbeats, how to judge the server's lease, the lifetime and retract
 * check, how a worker end is reported, and the zero-worker mode (tasks
 * reported finished without running).
 *
 * @module
 */
export * from "./core.ts";
export * from "./lease_watch.ts";
export * from "./lifetime.ts";
export * from "./send_schedule.ts";
export * from "./worker_end.ts";
export * from "./zero_work.ts";
