/**
 * Maildir-style discovery: a message is written to `inbox/tmp/<name>` and
 * renamed into `inbox/new/` (atomic); the server reads, applies, commits, then
 * deletes it. Foreign or malformed files are moved to `rejected/` with a reason.
 *
 * @module
 */
import { joinPath as join } from "../../common/mod.ts";
import {
  decodeInbox,
  encodeInbox,
  type InboxEnvelope,
  inboxFileName,
  type InboxItem,
  type InstanceLayout,
} from "../mod.ts";
import { writeFileAtomic } from "./fs_util.ts";

/**
 * Posts an envelope into the inbox (write to `inbox/tmp/`, rename into `inbox/new/`);
 * returns the file name. `sender` is the client's or worker's key, which makes the name
 * unique.
 *
 * @example Usage
 * ```ts
 * import { postToInbox, readInbox, removeInboxFile } from "./inbox.ts";
 * import { instanceLayout } from "../layout.ts";
 * import assert from "node:assert/strict";
 * const root = await Deno.makeTempDir();
 * try {
 *   const layout = instanceLayout(root);
 *   await Deno.mkdir(layout.inboxTmp, { recursive: true });
 *   await Deno.mkdir(layout.inboxNew, { recursive: true });
 *   const envelope = { client: "c1", request: 1, sentAt: 1000, msg: { kind: "ping" as const } };
 *   const name = await postToInbox(layout, "c1", envelope);
 *   const items = await readInbox(layout, null);
 *   assert.equal(items.length, 1);
 *   assert.equal(items[0]!.kind, "message");
 *   assert.equal(items[0]!.name, name);
 *   await removeInboxFile(layout, name);
 *   assert.deepEqual(await readInbox(layout, null), []);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function postToInbox(
  layout: InstanceLayout,
  sender: string,
  envelope: Omit<InboxEnvelope, "v">,
): Promise<string> {
  const name = inboxFileName(envelope.sentAt, sender, envelope.request);
  const tmp = join(layout.inboxTmp, name);
  // Small and one-off: synchronous calls skip the thread-pool hop of the async ones.
  Deno.writeTextFileSync(tmp, encodeInbox(envelope), { mode: 0o600 });
  Deno.renameSync(tmp, join(layout.inboxNew, name));
  return await Promise.resolve(name);
}

/**
 * Lists and decodes delivered inbox files in name order (so in sending order). A file that is
 * not a regular file, is owned by a uid other than `myUid` (null: no owner check), or does
 * not decode comes back as `rejected` with the reason. See {@link postToInbox} for an
 * example.
 */
export function readInbox(
  layout: InstanceLayout,
  myUid: number | null,
): Promise<InboxItem[]> {
  // Synchronous calls, as in postToInbox: small files, and a client waits for the answer.
  const names: string[] = [];
  try {
    for (const entry of Deno.readDirSync(layout.inboxNew)) {
      if (entry.isFile && !entry.name.startsWith(".")) names.push(entry.name);
      else if (!entry.isFile) names.push(entry.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return Promise.resolve([]);
    return Promise.reject(e);
  }
  names.sort();
  const items: InboxItem[] = [];
  for (const name of names) {
    const path = join(layout.inboxNew, name);
    let text: string;
    try {
      const info = Deno.lstatSync(path);
      if (!info.isFile) {
        items.push({ kind: "rejected", name, reason: "not a regular file" });
        continue;
      }
      if (myUid !== null && info.uid !== null && info.uid !== myUid) {
        items.push({ kind: "rejected", name, reason: `owned by uid ${info.uid}, not ${myUid}` });
        continue;
      }
      text = Deno.readTextFileSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      items.push({ kind: "rejected", name, reason: (e as Error).message });
      continue;
    }
    try {
      items.push({ kind: "message", name, envelope: decodeInbox(text) });
    } catch (e) {
      items.push({ kind: "rejected", name, reason: (e as Error).message });
    }
  }
  return Promise.resolve(items);
}

/**
 * Moves an inbox file to `rejected/` (its name prefixed with the time in ms) and writes the
 * reason beside it in `<name>.reason`. A file already gone is ignored.
 *
 * @example Usage
 * ```ts
 * import { readInbox, rejectInboxFile } from "./inbox.ts";
 * import { instanceLayout } from "../layout.ts";
 * import assert from "node:assert/strict";
 * const root = await Deno.makeTempDir();
 * try {
 *   const layout = instanceLayout(root);
 *   await Deno.mkdir(layout.inboxNew, { recursive: true });
 *   await Deno.mkdir(layout.rejected);
 *   await Deno.writeTextFile(`${layout.inboxNew}/junk.json`, "not json");
 *   const [item] = await readInbox(layout, null);
 *   assert.equal(item?.kind, "rejected");
 *   await rejectInboxFile(layout, "junk.json", "invalid JSON");
 *   const kept = [...Deno.readDirSync(layout.rejected)].map((e) => e.name).sort();
 *   assert.equal(kept.length, 2);
 *   assert.match(kept[1]!, /^\d+-junk\.json\.reason$/);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function rejectInboxFile(
  layout: InstanceLayout,
  name: string,
  reason: string,
): Promise<void> {
  // Names near the filesystem's limit would not take the prefix: the kept name is cut.
  const stamp = `${Date.now()}-${name.length > 150 ? name.slice(0, 150) + "~" : name}`;
  const kept = join(layout.rejected, stamp);
  try {
    await Deno.rename(join(layout.inboxNew, name), kept);
    // A huge or endless stream of bad files must not fill the disk: a bounded head of each,
    // and only the newest ones.
    if (Deno.lstatSync(kept).size > MAX_REJECTED_BYTES) Deno.truncateSync(kept, MAX_REJECTED_BYTES);
    await writeFileAtomic(`${kept}.reason`, reason + "\n");
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  pruneRejected(layout.rejected);
}

/** Most files kept in `rejected/` (a file and its reason count as two). */
export const MAX_REJECTED_FILES = 200;
/** Most bytes kept of one rejected file. */
export const MAX_REJECTED_BYTES = 64 * 1024;

/** Removes the oldest rejected files beyond {@link MAX_REJECTED_FILES} (names start with a time). */
function pruneRejected(dir: string): void {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch {
    return;
  }
  if (names.length <= MAX_REJECTED_FILES) return;
  names.sort();
  for (const old of names.slice(0, names.length - MAX_REJECTED_FILES)) {
    try {
      Deno.removeSync(join(dir, old));
    } catch {
      // gone already
    }
  }
}

/**
 * Deletes an inbox file once its request is applied and committed; a file already gone is
 * ignored. See {@link postToInbox} for an example.
 */
export function removeInboxFile(layout: InstanceLayout, name: string): Promise<void> {
  try {
    Deno.removeSync(join(layout.inboxNew, name));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return Promise.reject(e);
  }
  return Promise.resolve();
}
