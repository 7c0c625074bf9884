/**
 * The file protocol on disk: append-only channel logs with rotation and
 * acknowledgement, the Maildir-style inbox, the watch-and-poll waiter, the
 * server directory with its lease, and small file helpers.
 *
 * @module
 */
export * from "./channel_file.ts";
export * from "./fs_util.ts";
export * from "./inbox.ts";
export * from "./owned_file.ts";
export * from "./server_dir.ts";
export * from "./waiter.ts";
