/**
 * Automatic allocation's I/O: the driver that runs the batch system's
 * commands for the server (`driver.ts`).
 *
 * @module
 */
export * from "./driver.ts";
export * from "./walltime.ts";
