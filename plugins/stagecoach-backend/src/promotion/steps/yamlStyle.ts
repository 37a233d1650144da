import type { Document } from 'yaml';

/**
 * Whether a file indents block sequences under their key (`key:\n  - a`) or not
 * (`key:\n- a`, how Helm and kustomize write). Undecided files get the indented style.
 */
export function indentsSequences(text: string): boolean {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    const key = /^( *)(?:- )?[^\s#-][^#]*:\s*(?:#.*)?$/.exec(lines[i]);
    if (!key) continue;
    const keyIndent = key[1].length + (lines[i].trimStart().startsWith('- ') ? 2 : 0);
    const next = lines.slice(i + 1).find(l => l.trim() !== '' && !l.trimStart().startsWith('#'));
    const item = next && /^( *)-(?: |$)/.exec(next);
    if (item) return item[1].length > keyIndent;
  }
  return true;
}

/**
 * The edited document as text in the original's style: sequences indented as they were,
 * and long strings left on one line (a changed version must not refold a description).
 */
export function toStringLike(doc: Document, original: string): string {
  return doc.toString({ indentSeq: indentsSequences(original), lineWidth: 0 });
}
