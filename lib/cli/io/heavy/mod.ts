/**
 * The heavy parts of client commands, which the role file loads (as a bundle of its own, see
 * `importPart`) only when a command needs them, so that the start-up bundle every client
 * command loads stays small:
 * the job definition file parser (with its TOML library) and the preparation of a submit
 * (input files, `#HQ` directives).
 *
 * @module
 */
export { parseJobFile } from "../../job_file.ts";
export { prepareSubmit } from "../../directives.ts";
