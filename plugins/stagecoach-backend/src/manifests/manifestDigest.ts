import { createHash } from 'node:crypto';
import { isMap, parseAllDocuments } from 'yaml';

/**
 * The digest an apply records (`sha256:<hex>`): of the YAML text as sent, unless it holds
 * Secrets. Then it is of the text with every Secret's `data` and `stringData` values emptied
 * (their keys kept): the apply history is readable by everyone who may read the project, and
 * a digest of a short password can be checked against guesses.
 */
export function manifestDigest(text: string): string {
  const sha = (t: string) => `sha256:${createHash('sha256').update(t).digest('hex')}`;
  if (!/\bSecret\b/.test(text)) return sha(text);
  const documents = parseAllDocuments(text);
  const list = Array.isArray(documents) ? documents : [documents];
  let redacted = false;
  for (const doc of list) {
    if (!isMap(doc.contents) || doc.get('kind') !== 'Secret') continue;
    for (const field of ['data', 'stringData']) {
      const map = doc.get(field);
      if (!isMap(map)) continue;
      for (const pair of map.items) {
        pair.value = doc.createNode('');
        redacted = true;
      }
    }
  }
  return redacted ? sha(list.map(d => d.toString()).join('---\n')) : sha(text);
}
