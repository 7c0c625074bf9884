/**
 * Smoke test for the two network-filesystem views made by
 * `tools/netfs.sh start`: what one view writes, the other can read.
 */
import { join } from "node:path";
import { netfsViews, requirement } from "./_env.ts";

const views = netfsViews();
const req = requirement(
  views !== undefined,
  "two sshfs views (HQ_TEST_NETFS_A/B; run tools/netfs.sh start)",
);

/** Retries `fn` until it returns a value (not undefined) or `timeoutMs` passes. */
async function poll<T>(
  timeoutMs: number,
  fn: () => Promise<T | undefined>,
): Promise<{ value: T | undefined; lastError: unknown }> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = undefined;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return { value, lastError };
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) return { value: undefined, lastError };
    await new Promise((r) => setTimeout(r, 50));
  }
}

const decoder = new TextDecoder();

Deno.test({
  name: "netfs: a file written through view A is readable and appendable through view B",
  ignore: req.ignore,
  fn: async () => {
    req.check();
    const { a, b } = views!;
    const name = `netfs-smoke-${Deno.pid}-${crypto.randomUUID()}.txt`;
    const pathA = join(a, name);
    const pathB = join(b, name);
    const first = `first line ${name}\n`;
    const second = `second line ${crypto.randomUUID()}\n`;
    try {
      await Deno.writeTextFile(pathA, first);

      const seen = await poll(2000, async () => {
        const text = decoder.decode(await Deno.readFile(pathB));
        return text === first ? text : undefined;
      });
      if (seen.value === undefined) {
        throw new Error(
          `file written through A not readable through B within 2 s: ${String(seen.lastError)}`,
        );
      }

      await Deno.writeTextFile(pathA, second, { append: true });
      const appended = await poll(5000, async () => {
        // Re-open on every try: a reader that keeps its fd sees appends ~20 s late.
        const text = decoder.decode(await Deno.readFile(pathB));
        return text === first + second ? text : undefined;
      });
      if (appended.value === undefined) {
        throw new Error(
          `append through A not seen through B within 5 s: ${String(appended.lastError)}`,
        );
      }
    } finally {
      await Deno.remove(pathA).catch(() => {});
    }
  },
});
