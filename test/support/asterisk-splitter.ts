/**
 * What Asterisk does with one `Variable:` header value of an Originate, written from its source
 * (main/manager.c man_do_variable_value, main/app.c __ast_app_separate_args with remove_chars):
 * leading blanks skipped, the value split at commas outside (), [] and quotes, quotes removed, a
 * backslash makes the next character literal (and is removed), each item split at its first '='
 * (items without '=' or with an empty name are dropped). At most 64 items per header (the 64th
 * keeps the rest unsplit). Returns the variables in order.
 */
export function asteriskVariables(headerValue: string): [string, string][] {
  const buf = [...headerValue.replace(/^[ \t]+/, '')];
  const items: string[] = [];
  let i = 0;
  let paren = 0;
  let bracket = 0;
  let quote = false;
  const MAX = 64;
  while (i < buf.length && items.length < MAX - 1) {
    let item = '';
    let ended = false;
    for (; i < buf.length; i++) {
      const c = buf[i]!;
      if (c === '(') paren++;
      else if (c === ')') paren = Math.max(0, paren - 1);
      else if (c === '[') bracket++;
      else if (c === ']') bracket = Math.max(0, bracket - 1);
      else if (c === '"') {
        quote = !quote;
        continue; // removed
      } else if (c === '\\') {
        i++; // the backslash is removed; the next character is taken as it is
        if (i < buf.length) item += buf[i]!;
        continue;
      } else if (c === ',' && !paren && !quote && !bracket) {
        i++;
        ended = true;
        break;
      }
      item += c;
    }
    items.push(item);
    if (!ended) break;
  }
  if (i < buf.length) {
    // The last slot keeps the rest as it is (still with its quotes and backslashes removed is not
    // done by Asterisk either: the rest is not scanned).
    items.push(buf.slice(i).join(''));
  }
  const out: [string, string][] = [];
  for (const it of items) {
    const eq = it.indexOf('=');
    if (eq <= 0) continue;
    out.push([it.slice(0, eq), it.slice(eq + 1)]);
  }
  return out;
}
