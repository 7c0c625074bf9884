/**
 * A small binary min-heap ordered by a `before` predicate.
 *
 * @module
 */

/** Binary heap: `peek` and `pop` return the element that comes first by `before`. */
export class BinaryHeap<T> {
  #items: T[] = [];
  #before: (a: T, b: T) => boolean;

  /** Creates an empty heap ordered by `before(a, b)` (true when `a` comes first). */
  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  /** Number of elements. */
  get size(): number {
    return this.#items.length;
  }

  /** Adds an element. */
  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  /** The first element, without removing it. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Removes and returns the first element. */
  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && this.#before(items[l]!, items[best]!)) best = l;
        if (r < items.length && this.#before(items[r]!, items[best]!)) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best]!, items[i]!];
        i = best;
      }
    }
    return top;
  }

  /** Every element, in no particular order. */
  values(): readonly T[] {
    return this.#items;
  }
}
