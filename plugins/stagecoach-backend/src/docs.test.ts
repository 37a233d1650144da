import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { ConfigSchema, loadConfigSchema } from '@backstage/config-loader';
import { manifestExtensions } from './app/manifestExtensions';
import { parseManifests as parseWith } from './manifests/parseManifests';
import { CLUSTER_KINDS, parseClusterManifests } from './manifests/clusterManifests';
import type { PromotionTaskSpec } from './manifests/schemas';
import { KARGO_API_VERSION } from './manifests/schemas';
import { ANALYSIS_API_VERSION } from './verification/analysisTemplate';
import { builtinSteps, validateStepConfig } from './promotion/steps';

/**
 * The manifests as the engine reads them: the features' extensions with their defaults, and the
 * ClusterPromotionTasks of every cluster set the docs show (documents of the cluster scope,
 * docs/cluster-scope.md), as if they had been applied first.
 */
const docsClusterTasks = new Map<string, PromotionTaskSpec>();
const parseManifests = (project: string, text: string) => parseWith(project, text, manifestExtensions(), docsClusterTasks);

/** Whether a document belongs to the cluster scope (PUT /cluster/manifests), not to a project. */
const isClusterDocument = (v: any) => v?.apiVersion === KARGO_API_VERSION && (CLUSTER_KINDS as readonly string[]).includes(v?.kind);

/** A block's documents as two sets of YAML: the cluster scope's and a project's (either may be empty). */
function splitByScope(text: string): { cluster: string; project: string } {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const of = (cluster: boolean) =>
    list
      .filter(d => isClusterDocument(d.toJS()) === cluster)
      .map(d => d.toString())
      .join('---\n');
  return { cluster: of(true), project: of(false) };
}

/**
 * Docs are product: every YAML (and JSON) example in docs/, examples/ and the README is
 * parsed, and every manifest or step in them is validated as the API would.
 */
const repoRoot = path.resolve(__dirname, '../../..');

function markdownFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return markdownFiles(p);
    return e.name.endsWith('.md') ? [p] : [];
  });
}

interface Block {
  file: string;
  line: number;
  lang: string;
  text: string;
}

function codeBlocks(file: string): Block[] {
  const blocks: Block[] = [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(yaml|yml|json)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    blocks.push({ file: path.relative(repoRoot, file), line: start + 1, lang: open[1], text: body.join('\n') });
  }
  return blocks;
}

const files = [
  ...markdownFiles(path.join(repoRoot, 'docs')),
  path.join(repoRoot, 'README.md'),
  ...(fs.existsSync(path.join(repoRoot, 'examples')) ? markdownFiles(path.join(repoRoot, 'examples')) : []),
];
const blocks = files.flatMap(codeBlocks);
const yamlBlocks = blocks.filter(b => b.lang !== 'json');
for (const b of yamlBlocks) {
  const { cluster } = splitByScope(b.text);
  if (!cluster) continue;
  try {
    for (const task of parseClusterManifests(cluster, manifestExtensions()).tasks) docsClusterTasks.set(task.name, task.spec);
  } catch {
    // the block's own test below says what is wrong with it
  }
}

describe('documentation examples', () => {
  it('exist', () => {
    expect(yamlBlocks.length).toBeGreaterThanOrEqual(9);
  });

  const label = (b: Block) => `${b.file}:${b.line}`;
  const parsed = yamlBlocks.map(b => {
    const docs = parseAllDocuments(b.text);
    const list = Array.isArray(docs) ? docs : [docs];
    return { block: b, errors: list.flatMap(d => d.errors.map(e => e.message)), values: list.map(d => d.toJS()) };
  });
  // Kargo's documents, and Argo Rollouts' AnalysisTemplates that stages verify with
  const manifestSets = parsed.filter(p =>
    p.values.some(v => v?.apiVersion === KARGO_API_VERSION || (v?.apiVersion === ANALYSIS_API_VERSION && /AnalysisTemplate$/.test(v?.kind))),
  );
  const stepLists = parsed.filter(
    p => Array.isArray(p.values[0]) && p.values[0].every((s: any) => typeof s?.uses === 'string'),
  );

  it.each(parsed.map(p => [label(p.block), p.errors] as const))('%s is YAML', (_, errors) => {
    expect(errors).toEqual([]);
  });

  it.each(blocks.filter(b => b.lang === 'json').map(b => [label(b), b.text] as const))('%s is JSON', (_, text) => {
    expect(() => JSON.parse(text)).not.toThrow();
  });

  it.each(manifestSets.map(p => [label(p.block), p] as const))('%s is a valid set of manifests', (_, p) => {
    const project = p.values.find(v => v?.metadata?.namespace)?.metadata.namespace ?? 'docs';
    const sets = splitByScope(p.block.text);
    expect(() => {
      if (sets.cluster) parseClusterManifests(sets.cluster, manifestExtensions());
      if (sets.project.trim()) parseManifests(project, sets.project);
    }).not.toThrow();
  });

  it.each(stepLists.map(p => [label(p.block), p.values[0]] as const))('%s has valid steps', (_, steps) => {
    const problems = steps.map((s: any) => ({ uses: s.uses, problems: validateStepConfig(s.uses, s.config ?? {}) }));
    expect(problems).toEqual(steps.map((s: any) => ({ uses: s.uses, problems: [] })));
  });

  // app-config snippets: their `stagecoach` block is checked against the plugin's config schema
  // (config.d.ts), with no undeclared keys, as the backend would read it
  const appConfigs = parsed.filter(
    p => p.values.length === 1 && typeof p.values[0]?.stagecoach === 'object' && p.values[0].stagecoach !== null,
  );
  let schema: ConfigSchema;
  beforeAll(async () => {
    schema = await loadConfigSchema({
      dependencies: ['@stagecoach/plugin-stagecoach-backend'],
      excludePackageDependencies: true,
      noUndeclaredProperties: true,
    });
  });

  it.each(appConfigs.map(p => [label(p.block), p.values[0].stagecoach] as const))(
    '%s is valid Stagecoach configuration',
    (_, stagecoach) => {
      expect(() => checkStagecoachConfig(schema, stagecoach)).not.toThrow();
    },
  );

  it.each(['app-config.yaml', 'app-config.production.yaml', 'app-config.e2e.yaml'])(
    '%s has valid Stagecoach configuration',
    file => {
      // stagecoach.demo belongs to the host backend's demo module, not to the plugin
      const { demo: _demo, ...stagecoach } = parseYaml(fs.readFileSync(path.join(repoRoot, file), 'utf8')).stagecoach ?? {};
      expect(() => checkStagecoachConfig(schema, stagecoach)).not.toThrow();
    },
  );

  it('the configuration check refuses an undeclared key', () => {
    expect(() => checkStagecoachConfig(schema, { egress: { allowLoopbak: true } })).toThrow(/allowLoopbak/);
  });

  it('covers manifests and steps', () => {
    expect(manifestSets.length).toBeGreaterThanOrEqual(2);
    expect(stepLists.length).toBeGreaterThanOrEqual(5);
  });
});

function checkStagecoachConfig(schema: ConfigSchema, stagecoach: unknown) {
  schema.process([{ context: 'docs', data: { stagecoach } as never }], {
    visibility: ['frontend', 'backend', 'secret'],
  });
}

describe('step reference', () => {
  const index = fs.readFileSync(path.join(repoRoot, 'docs/steps/README.md'), 'utf8');

  it.each([...builtinSteps.keys()])('%s has a page with an example, listed in docs/steps/README.md', name => {
    const page = path.join(repoRoot, 'docs/steps', `${name}.md`);
    expect(fs.existsSync(page)).toBe(true);
    const examples = codeBlocks(page).filter(b => b.lang !== 'json' && new RegExp(`^- uses: ${name}$`, 'm').test(b.text));
    expect(examples.length).toBeGreaterThan(0);
    expect(index).toContain(`[${name}](${name}.md)`);
  });
});

describe('example pipelines', () => {
  const dir = path.join(repoRoot, 'examples');
  const pipelines = fs.existsSync(dir)
    ? fs.readdirSync(dir, { recursive: true }).map(String).filter(f => /pipeline\.ya?ml$/.test(f))
    : [];

  it.each(pipelines)('examples/%s is a valid set of manifests', file => {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const first = parseAllDocuments(text);
    const ns = (Array.isArray(first) ? first : [first])[0].toJS().metadata.namespace;
    expect(() => parseManifests(ns, text)).not.toThrow();
  });
});
