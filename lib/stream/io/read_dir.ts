/**
 * The reading end of a stream directory: every stream file in it, read whole. A file is
 * opened afresh by name (close-to-open consistency on network filesystems), so appends
 * made on another host before the read are seen.
 *
 * @module
 */
import { OutputLogError, STREAM_FILE_SUFFIX, type StreamFileInput } from "../mod.ts";

/**
 * The stream files (`*.hqs`) of `dir`, in name order; files that vanish meanwhile are left
 * out.
 *
 * @throws {OutputLogError} When the directory cannot be listed.
 */
export async function readStreamFiles(dir: string): Promise<StreamFileInput[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.endsWith(STREAM_FILE_SUFFIX) && !e.isDirectory) names.push(e.name);
    }
  } catch (e) {
    throw new OutputLogError(`Cannot read stream directory "${dir}": ${(e as Error).message}`);
  }
  names.sort();
  const files: StreamFileInput[] = [];
  for (const name of names) {
    try {
      files.push({ name, bytes: await Deno.readFile(`${dir}/${name}`) });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return files;
}
