// Echoing caller input in a one-line message: only printable ASCII goes out as is, so a value can
// neither break the line nor carry terminal escapes (C0, DEL, C1, U+2028, bidi overrides...).

/** `s` in double quotes, at most `max` characters, every other character escaped as \uXXXX. */
export function quote(s: unknown, max = 80): string {
  const text = String(s);
  const cut = text.length > max ? text.slice(0, max) : text;
  const escaped = cut.replace(/["\\]|[^\x20-\x7e]/g, (c) =>
    c === '"' ? '\\"' : c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r'
      : '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  return `"${escaped}${cut.length < text.length ? '…' : ''}"`;
}

/** Like quote(), without the quotes (for a name shown bare in a message). */
export const bare = (s: unknown, max = 80): string => quote(s, max).slice(1, -1);
