/**
 * The server's request handling, pure: `serverRound` (one round: inbox,
 * worker records, ticks, scheduling, journal batch, replies), the client
 * request handler, the query answers and views sent to clients, and the debug
 * dump. The process around it is in `io/`.
 *
 * @module
 */
export * from "./client_requests.ts";
export * from "./debug_dump.ts";
export * from "./journal_events.ts";
export * from "./journal_requests.ts";
export * from "./queries.ts";
export * from "./round.ts";
export * from "./views.ts";
export * from "./worker_views.ts";
