import fs from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';

/** One resource of a rendered YAML stream, with what file names are made of. */
export interface RenderedResource {
  /** The document as the tool printed it (comments included), ending with a newline. */
  text: string;
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
}

/**
 * Splits the stream kustomize or helm prints. Both separate documents with `---` lines, and a
 * line that is exactly `---` cannot be inside a document. Documents without content (a
 * template that rendered to nothing but its `# Source:` comment) are dropped.
 */
export function splitResources(stream: string): RenderedResource[] {
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return stream
    .split(/^---[ \t]*$/m)
    .map(text => text.trim())
    .filter(Boolean)
    .flatMap(text => {
      const value = parseDocument(text).toJS();
      if (value === null || value === undefined) return [];
      return [
        {
          text: `${text}\n`,
          apiVersion: str(value.apiVersion),
          kind: str(value.kind),
          name: str(value.metadata?.name),
          namespace: str(value.metadata?.namespace),
        },
      ];
    });
}

function describe(r: RenderedResource): string {
  return `${r.apiVersion} ${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

/**
 * Writes one file per resource. The names come from rendered resources, so anything but a
 * plain file name is refused, and so are two resources that would share a file.
 */
export async function writeResourceFiles(
  dir: string,
  resources: RenderedResource[],
  names: string[],
  collisionHint = '',
): Promise<void> {
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    if (!name || name.includes('/') || name.includes('\\') || name.includes('\0') || name.startsWith('.')) {
      throw new Error(`${describe(resources[i])} would be written to "${name}", which is not a plain file name`);
    }
    const first = seen.get(name);
    if (first !== undefined) {
      throw new Error(
        `${describe(resources[first])} and ${describe(resources[i])} would both be written to ${name}${collisionHint}`,
      );
    }
    seen.set(name, i);
  });
  await fs.mkdir(dir, { recursive: true });
  await Promise.all(resources.map((r, i) => fs.writeFile(path.join(dir, names[i]), r.text)));
}

/** Writes the whole rendered stream into one file, creating the folders above it. */
export async function writeStreamFile(file: string, stream: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, stream);
}

/** Whether an output path names a file (Kargo's rule: it ends with .yaml or .yml) rather than a folder. */
export function isYamlFilePath(p: string): boolean {
  return /\.ya?ml$/.test(p);
}
