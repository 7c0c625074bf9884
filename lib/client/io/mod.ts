/**
 * The client side of the file protocol: `HqClient` posts requests to the
 * server's inbox and reads replies from its own channel; `withClient` opens
 * one for a command and always cleans it up.
 *
 * @module
 */
export * from "./client.ts";
export * from "./session.ts";
