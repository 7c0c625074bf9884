/**
 * The file protocol's formats, pure: message unions by direction, their
 * versioned codec and validation, record framing (length and CRC-32 per
 * line) and the names of everything in a server directory. The files
 * themselves (channels, inbox, waiter, lease) are in `io/`.
 *
 * @module
 */
export * from "./alloc_views.ts";
export * from "./codec.ts";
export * from "./framing.ts";
export * from "./journal_views.ts";
export * from "./layout.ts";
export * from "./messages.ts";
export * from "./server_files.ts";
export * from "./validate.ts";
export * from "./views.ts";
