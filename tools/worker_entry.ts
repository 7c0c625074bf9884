/**
 * The worker role as one self-contained program, for `deno task bundle-worker` and
 * `deno task compile-worker`: `worker.ts` loads its start part lazily from the repository,
 * which a copied bundle or a compiled binary does not have, so this entry links it in.
 *
 * @module
 */
import * as part from "../lib/cli/io/worker_start/mod.ts";
import { main } from "../worker.ts";

if (import.meta.main) Deno.exit(await main(Deno.args, part));
