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
