/**
 * The first key an object of a JSON text names twice, with its offset, or undefined.
 *
 * JSON.parse keeps the last of duplicate keys without a word, so `{"cost": 1, "cost": 900}`
 * would be stored as 900 while the producer's own log may show 1: an event must name each
 * field once. Runs on text JSON.parse has already accepted. Iterative (an explicit stack),
 * so a deeply nested body cannot overflow the call stack.
 */
export function duplicateKey(text: string): { key: string; offset: number } | undefined {
  // one Set of keys per open object, null per open array
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      let escaped = false;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      if (expectKey) {
        // "a" and "\u0061" are the same key
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) return { key, offset: start };
        keys.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = stack.length > 0 && stack[stack.length - 1] !== null;
    }
  }
  return undefined;
}

/**
 * duplicateKey for text JSON.parse already turned into `parsed`, with a fast path: without a
 * backslash, quotes alternate open/close and a key is exactly a string whose closing quote is
 * followed (after whitespace) by ':', so counting those and the parsed tree's keys tells whether
 * any was dropped. Equal counts: no duplicate. Otherwise (or with escapes) the full scan names
 * the key. The scan was ~5 µs of the ~20 µs each ingested event cost in Node.
 */
export function duplicateKeyOf(text: string, parsed: unknown): { key: string; offset: number } | undefined {
  if (text.indexOf('\\') === -1 && keyTokens(text) === parsedKeys(parsed)) return undefined;
  return duplicateKey(text);
}

function keyTokens(text: string): number {
  let keys = 0;
  const n = text.length;
  for (let i = text.indexOf('"'); i !== -1 && i < n; ) {
    const close = text.indexOf('"', i + 1);
    if (close === -1) break;
    let j = close + 1;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      j++;
    }
    if (j < n && text.charCodeAt(j) === 0x3a) keys++;
    i = text.indexOf('"', close + 1);
  }
  return keys;
}

/** Keys of every object in a parsed JSON value (an explicit stack: any depth). */
function parsedKeys(value: unknown): number {
  let keys = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else {
      for (const k in v) {
        keys++;
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  return keys;
}
