/**
 * A temporary directory removed (with its contents) when its scope ends:
 * `await using dir = await tempDir();`.
 *
 * @module
 */

/** A temporary directory; disposing of it removes it. */
export interface TempDir extends AsyncDisposable {
  /** Its absolute path. */
  readonly path: string;
}

/**
 * Makes a temporary directory that `await using` removes at the end of its scope.
 *
 * @example Usage
 * ```ts
 * import { tempDir } from "./temp_dir.ts";
 * import assert from "node:assert/strict";
 * let kept = "";
 * {
 *   await using dir = await tempDir();
 *   kept = dir.path;
 *   await Deno.writeTextFile(`${dir.path}/f`, "x");
 * }
 * await assert.rejects(Deno.stat(kept), Deno.errors.NotFound);
 * ```
 */
export async function tempDir(prefix?: string): Promise<TempDir> {
  const path = await Deno.makeTempDir(prefix === undefined ? {} : { prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    },
  };
}
