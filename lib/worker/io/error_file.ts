/**
 * The error file of a task with a task directory (`HQ_ERROR_FILENAME`): its content becomes
 * the error of the task when it fails, as HyperQueue has it.
 *
 * @module
 */

/** Path of the file through which a task gives its own error message (`HQ_ERROR_FILENAME`). */
export function errorFilePath(taskDir: string): string {
  return `${taskDir}/hq-error`;
}

/** How many bytes of a task's error file become its error (HyperQueue: 2 KiB). */
export const MAX_ERROR_FILE_BYTES = 2048;

/**
 * The error a failed task gave in its error file ({@link errorFilePath}), as HyperQueue
 * reads it: the first {@link MAX_ERROR_FILE_BYTES} bytes as UTF-8 (invalid bytes
 * replaced), marked when cut, with a note for an empty file; null when there is no file
 * (the exit status is the error then). The text is stored as is, a final newline included.
 */
export function readErrorFile(taskDir: string): string | null {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(errorFilePath(taskDir), { read: true });
  } catch {
    return null;
  }
  const buffer = new Uint8Array(MAX_ERROR_FILE_BYTES);
  let size = 0;
  try {
    while (size < buffer.length) {
      const n = file.readSync(buffer.subarray(size));
      if (n === null || n === 0) break;
      size += n;
    }
  } catch {
    if (size === 0) return null; // Unreadable (a directory, say): as if there were none.
  } finally {
    file.close();
  }
  if (size === 0) return "Task created an error file, but it is empty";
  const text = new TextDecoder().decode(buffer.subarray(0, size));
  return size === MAX_ERROR_FILE_BYTES ? `${text}\n[The message was truncated]` : text;
}
