/**
 * Output streaming (`hq submit --stream DIR`), pure: the format of stream files and the reader
 * behind `hq output-log`.
 *
 * Each worker process appends the output of all its streamed tasks to its own stream files
 * in the stream directory, `<worker id>-<random>.<part>.hqs`: a new part when a file reaches
 * its size limit or a write failed, so no file ever has two writers and the number of files
 * follows the number of workers, not of tasks. A file is a header (format version, server
 * uid, worker id) followed by records of output chunks and task start and end markers, each
 * tagged with job, task and instance, framed like the channel logs (length and CRC-32 per
 * line), so a reader skips a torn tail or a damaged record. See `codec.ts` for the records;
 * the writer is in `io/`.
 *
 * @module
 */
export * from "./codec.ts";
export * from "./output_log.ts";
export * from "./output_views.ts";
