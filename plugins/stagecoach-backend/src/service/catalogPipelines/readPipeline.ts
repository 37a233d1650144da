import type { UrlReaderService } from '@backstage/backend-plugin-api';
import type { ManifestProblem } from '@stagecoach/plugin-stagecoach-common';
import { parseAllDocuments } from 'yaml';
import { isManifestFile, type PipelineLocation } from './pipelineSource';

/** The manifests as one multi-document YAML set, and where each document came from. */
export interface ReadPipeline {
  text: string;
  /** The reader's ETag (a tree's commit for SCM readers): the next read with it costs nothing when unchanged. */
  etag?: string;
  /** For a folder: the files in the order they were joined, and how many YAML documents each holds. */
  files?: Array<{ path: string; documents: number }>;
}

/** A problem of the joined set, placed in its file (documents counted in that file) when the set came from a folder. */
export type LocatedProblem = ManifestProblem & { file?: string };

const countDocuments = (text: string) => {
  const docs = parseAllDocuments(text);
  return Array.isArray(docs) ? docs.length : 1;
};

/**
 * Reads the manifests at a location through Backstage's URL reader (so every SCM integration and
 * `backend.reading.allow` apply). With the ETag of the last read, an unchanged source throws
 * the reader's NotModifiedError and nothing is downloaded.
 */
export async function readPipeline(
  reader: UrlReaderService,
  location: PipelineLocation,
  etag: string | undefined,
): Promise<ReadPipeline> {
  if (location.shape === 'file') {
    const response = await reader.readUrl(location.url, { etag });
    return {
      text: (await response.buffer()).toString('utf8'),
      ...(response.etag ? { etag: response.etag } : {}),
    };
  }
  const tree = await reader.readTree(location.url, {
    etag,
    filter: path => isManifestFile(path),
  });
  const files = (await tree.files())
    .filter(f => isManifestFile(f.path))
    .sort((a, b) => a.path.localeCompare(b.path, 'en-US'));
  const texts = await Promise.all(
    files.map(async f => (await f.content()).toString('utf8')),
  );
  // each file a run of whole documents: the separator starts the next file's first one
  const text = texts
    .map(t => t.replace(/^\s*---[ \t]*(\r?\n|$)/, '').trimEnd())
    .join('\n---\n');
  const counted = files.map((f, i) => ({
    path: f.path,
    documents: countDocuments(texts[i]),
  }));
  const total = counted.reduce((n, f) => n + f.documents, 0);
  return {
    text,
    etag: tree.etag,
    // when joining merged or split documents (a file opening with ---), problems keep the set's numbering
    ...(total === countDocuments(text) ? { files: counted } : {}),
  };
}

/** Places a problem of the joined set in its file, the document counted from 1 in that file. */
export function locateProblem(
  problem: ManifestProblem,
  files: ReadPipeline['files'],
): LocatedProblem {
  if (!files) return problem;
  let first = 1;
  for (const f of files) {
    if (problem.document < first + f.documents) {
      return {
        ...problem,
        file: f.path,
        document: problem.document - first + 1,
      };
    }
    first += f.documents;
  }
  return problem;
}
