import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { confinedPath, isInside, StepConfigError } from '../workDir';
import { KUSTOMIZATION_FILE_NAMES } from './kustomizationFile';

/**
 * What a kustomization may reach, checked before kustomize runs. Kustomize's load restrictor
 * keeps files inside a kustomization's folder, but not the folders it names as `resources`,
 * `bases` or `components`: a relative or absolute folder elsewhere on the backend (another
 * promotion's checkout, the backend's own files) would be read. And an entry that is no local
 * path makes kustomize fetch it with git (or helm fetch a chart), outside the egress policy.
 *
 * So the whole tree is walked first: every local path a kustomization names, in every field
 * that takes one, must resolve (symbolic links followed) inside the work directory, and
 * remote bases and chart repositories are refused. Fields holding inline content (inline
 * patches, literals) name no path and are skipped.
 */

/** How deep kustomizations may nest (overlay -> base -> component ...). */
const MAX_DEPTH = 32;

/**
 * `https://`, `ssh://`, `file://`, `git::`, `gh:`, `git@host:`, `github.com/...`: the forms
 * kustomize takes for a remote base (a path that does not exist and has none of these forms
 * is an error kustomize reports itself).
 */
function looksRemote(entry: string): boolean {
  return (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ||
    /^(git::|gh:)/.test(entry) ||
    /^[^/\s]+@[^/\s]+:/.test(entry) ||
    /^(github\.com|gitlab\.com|bitbucket\.org)[/:]/.test(entry)
  );
}

interface Walk {
  workDir: string;
  /** Kustomization folders already checked (by real path): a cycle is kustomize's to report. */
  seen: Set<string>;
}

/** Checks the kustomization in `dir` (inside `workDir`) and everything it reaches; throws StepConfigError naming the file and field. */
export async function checkKustomizationTree(workDir: string, dir: string): Promise<void> {
  await checkKustomization({ workDir, seen: new Set() }, dir, 0);
}

async function kustomizationFileIn(dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILE_NAMES) {
    const s = await fs.stat(path.join(dir, name)).catch(() => undefined);
    if (s?.isFile()) return path.join(dir, name);
  }
  return undefined;
}

async function checkKustomization(walk: Walk, dir: string, depth: number): Promise<void> {
  const real = await fs.realpath(dir);
  if (walk.seen.has(real)) return;
  walk.seen.add(real);
  const file = await kustomizationFileIn(dir);
  if (!file) return; // kustomize says what is missing
  const shownFile = path.relative(walk.workDir, file);
  if (depth > MAX_DEPTH) throw new StepConfigError(`${shownFile}: kustomizations nest more than ${MAX_DEPTH} levels deep`);
  let doc: unknown;
  try {
    doc = parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw new StepConfigError(`${shownFile} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object') return;
  const k = doc as Record<string, unknown>;

  /** One path the kustomization names; a folder it may hold a kustomization of its own to walk. */
  const local = async (entry: unknown, field: string, kind: 'folder or file' | 'file' | 'folder') => {
    if (typeof entry !== 'string' || entry === '') return;
    const where = `${shownFile}: ${field} "${entry}"`;
    if (looksRemote(entry)) {
      throw new StepConfigError(
        `${where} is remote: kustomize would fetch it with git (or helm), outside the egress policy (stagecoach.egress); vendor it into the repository and name it by a relative path`,
      );
    }
    const resolved = path.resolve(dir, entry);
    if (!isInside(walk.workDir, resolved)) throw new StepConfigError(`${where} leaves the promotion's work directory`);
    // symbolic links, .git: confinedPath's own checks, on the path relative to the work directory
    await confinedPath(walk.workDir, path.relative(walk.workDir, resolved) || '.', `${shownFile}: ${field}`);
    const stat = await fs.stat(resolved).catch(() => undefined);
    if (stat?.isDirectory() && kind !== 'file') await checkKustomization(walk, resolved, depth + 1);
  };
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const objects = (v: unknown): Record<string, unknown>[] =>
    list(v).filter((o): o is Record<string, unknown> => Boolean(o) && typeof o === 'object');

  for (const field of ['resources', 'bases', 'components']) {
    for (const [i, entry] of list(k[field]).entries()) await local(entry, `${field}[${i}]`, 'folder or file');
  }
  // each may name a file of plugin configs or a folder with a kustomization producing them
  for (const field of ['generators', 'transformers', 'validators']) {
    for (const [i, entry] of list(k[field]).entries()) {
      if (typeof entry === 'string' && !entry.includes('\n')) await local(entry, `${field}[${i}]`, 'folder or file');
    }
  }
  for (const [i, entry] of list(k.patchesStrategicMerge).entries()) {
    // an entry with a line break is an inline patch
    if (typeof entry === 'string' && !entry.includes('\n')) await local(entry, `patchesStrategicMerge[${i}]`, 'file');
  }
  for (const field of ['patches', 'patchesJson6902', 'replacements']) {
    for (const [i, p] of objects(k[field]).entries()) await local(p.path, `${field}[${i}].path`, 'file');
  }
  for (const field of ['configMapGenerator', 'secretGenerator']) {
    for (const [i, g] of objects(k[field]).entries()) {
      // `files` entries may be `key=path`
      for (const [j, f] of list(g.files).entries()) {
        await local(typeof f === 'string' ? f.slice(f.indexOf('=') + 1) : f, `${field}[${i}].files[${j}]`, 'file');
      }
      for (const [j, f] of list(g.envs).entries()) await local(f, `${field}[${i}].envs[${j}]`, 'file');
      await local(g.env, `${field}[${i}].env`, 'file');
    }
  }
  for (const [i, c] of list(k.crds).entries()) await local(c, `crds[${i}]`, 'file');
  if (k.openapi && typeof k.openapi === 'object') await local((k.openapi as Record<string, unknown>).path, 'openapi.path', 'file');
  if (k.helmGlobals && typeof k.helmGlobals === 'object') {
    await local((k.helmGlobals as Record<string, unknown>).chartHome, 'helmGlobals.chartHome', 'folder');
  }
  for (const [i, h] of objects(k.helmCharts).entries()) {
    if (h.repo !== undefined && h.repo !== '') {
      throw new StepConfigError(
        `${shownFile}: helmCharts[${i}].repo "${String(h.repo)}": helm would fetch the chart outside the egress policy (stagecoach.egress); vendor the chart into chartHome and remove repo`,
      );
    }
    await local(h.chartHome, `helmCharts[${i}].chartHome`, 'folder');
    await local(h.valuesFile, `helmCharts[${i}].valuesFile`, 'file');
    for (const [j, f] of list(h.additionalValuesFiles).entries()) await local(f, `helmCharts[${i}].additionalValuesFiles[${j}]`, 'file');
  }
}
