/**
 * The offset of the first syntax error in a JSON text, or undefined when it is valid.
 *
 * Only for error messages: V8's JSON.parse reports a position for some errors but not for
 * the commonest one ("Unexpected token '}', …" has none), and a 400 must name the line.
 * Runs only after JSON.parse failed. Iterative (an explicit stack), so a deeply nested body
 * cannot overflow the call stack.
 */
export function jsonErrorOffset(text: string): number | undefined {
  const n = text.length;
  const stack: string[] = []; // the closing bracket each open container expects
  let i = 0;
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const string = (): boolean => {
    if (text[i] !== '"') return false;
    for (i++; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = text[++i];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) return false;
          i += 4;
        } else if (e === undefined || !'"\\/bfnrt'.includes(e)) return false;
      }
    }
    return false;
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const scalar = (): boolean => {
    if (text[i] === '"') return string();
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return true;
      }
    }
    NUMBER.lastIndex = i;
    if (!NUMBER.test(text)) return false;
    i = NUMBER.lastIndex;
    return true;
  };
  // After "{" or ",": a key and its colon.
  const key = (): boolean => {
    ws();
    if (!string()) return false;
    ws();
    if (text[i] !== ':') return false;
    i++;
    return true;
  };

  ws();
  for (;;) {
    // A value is expected at i.
    ws();
    if (text[i] === '[' || text[i] === '{') {
      const open = text[i];
      stack.push(open === '[' ? ']' : '}');
      i++;
      ws();
      if (text[i] === stack.at(-1)) {
        i++;
        stack.pop();
      } else {
        if (open === '{' && !key()) return i;
        continue;
      }
    } else if (!scalar()) return i;
    // After a value: a comma, a closing bracket, or the end.
    for (;;) {
      ws();
      const close = stack.at(-1);
      if (close === undefined) return i < n ? i : undefined;
      if (text[i] === close) {
        i++;
        stack.pop();
        continue;
      }
      if (text[i] !== ',') return i;
      i++;
      if (close === '}' && !key()) return i;
      break;
    }
  }
}
