/**
 * How a worker ends, and what each end means for the server and for the
 * tasks still running. Pure: the shell (`run.ts`) acts on the answers.
 *
 * @module
 */
import type { WorkerConfig, WorkerStopReason } from "../protocol/mod.ts";

/**
 * How a worker ended. `stopped` (`hq worker stop`), `idleTimeout` and
 * `timeLimit` end it normally (exit code 0). `interrupted` (SIGINT or SIGTERM)
 * also exits 0, but the server counts it as a lost connection, as HyperQueue
 * does, so its running tasks count a crash. `connectionLost`: the server
 * stopped or vanished; the process should exit with code 1. `declaredLost`: the
 * server declared this worker lost (late heartbeats, no answer to a restarted
 * server) and runs its tasks elsewhere: they are killed whatever
 * `--on-server-lost` says, and the process exits with code 1. `refused`: the server refused
 * the registration (exit code 1).
 */
export type WorkerEnd =
  | "stopped"
  | "idleTimeout"
  | "timeLimit"
  | "interrupted"
  | "connectionLost"
  | "declaredLost"
  | "refused";

/** The worker's end for a `stop` from the server: a stopping server is a lost one. */
export function endForStop(reason: WorkerStopReason): WorkerEnd {
  switch (reason) {
    case "stopped":
    case "idleTimeout":
    case "timeLimit":
      return reason;
    case "heartbeatLost":
    case "connectionLost":
      return "declaredLost";
    case "serverStopped":
      return "connectionLost";
  }
}

/** What the worker tells the server as it ends, or null when there is no server to tell. */
export function reportedReason(end: WorkerEnd): WorkerStopReason | null {
  if (end === "connectionLost" || end === "declaredLost" || end === "refused") return null;
  return end === "interrupted" ? "connectionLost" : end;
}

/**
 * Whether the worker kills its running tasks as it ends: always, except when
 * the server is lost and `--on-server-lost finish-running` lets them finish.
 */
export function killsOnEnd(end: WorkerEnd, onServerLost: WorkerConfig["onServerLost"]): boolean {
  return !(end === "connectionLost" && onServerLost === "finish-running");
}
