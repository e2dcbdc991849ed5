export type LineDiff = { added: string[]; removed: string[] };

/** Lines of visible text in an HTML page (tags and blank lines dropped). */
export function textLines(html: string): string[] {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, "")
    .replace(/<[^>]+>/g, "\n")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** Which lines appeared and which went away (as sets: order changes are not news). */
export function diffLines(before: string[], after: string[]): LineDiff {
  const old = new Set(before);
  const now = new Set(after);
  return {
    added: after.filter((line) => !old.has(line)),
    removed: before.filter((line) => !now.has(line)),
  };
}
