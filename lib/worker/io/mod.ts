/**
 * The worker process: the link to the server's files, task processes
 * (launch, output files, streamed output, cancel and time limits), the task error texts that
 * need the file system, liveness identity, `deploy-ssh`, and the loop of
 * `runWorker`.
 *
 * @module
 */
export * from "./deploy_ssh.ts";
export * from "./exec_errors.ts";
export * from "./error_file.ts";
export * from "./launcher.ts";
export * from "./processes.ts";
export * from "./run.ts";
export * from "./server_link.ts";
export * from "./signals.ts";
export * from "./streamer.ts";
