import { CREDENTIAL_LABEL } from './kinds';
import type { DocumentReport, ImportReport } from './importKargo';

const LABELS: Record<DocumentReport['status'], string> = {
  applied: 'applied',
  'would-apply': 'would apply',
  skipped: 'skipped',
  refused: 'refused',
  'not-applied': 'not applied',
};

/**
 * The report in words, one line per document:
 *
 *   project kargo-demo
 *     applied      Warehouse/kargo-demo
 *     refused      Stage/prod
 *                    spec.promotionTemplate.spec.steps[0].uses: ...
 *     skipped      Freight/1f2e...: Freight history is not imported: ...
 *     credentials  not imported: re-create them in Stagecoach (kargo.akuity.io/cred-type Secrets here: git-creds)
 *
 * With `dryRun`, each project's YAML follows its lines. Never a Secret's value: the import
 * has only their names.
 */
export function formatReport(
  report: ImportReport,
  options: { dryRun: boolean; target?: string },
): string {
  const out: string[] = [];
  out.push(`Kargo: ${report.source}`);
  out.push(
    options.dryRun
      ? 'Stagecoach: nothing is applied (--dry-run)'
      : `Stagecoach: ${options.target}`,
  );
  for (const w of report.warnings) out.push(`warning: ${w}`);
  for (const e of report.errors) out.push(`error: ${e}`);
  const width = 13;
  const scopes = [
    ...(report.cluster ? [{ scope: report.cluster, cluster: true }] : []),
    ...report.projects.map(p => ({ scope: p, cluster: false })),
  ];
  for (const { scope: project, cluster } of scopes) {
    out.push('', cluster ? 'cluster scope' : `project ${project.project}`);
    for (const d of project.documents) {
      const label = LABELS[d.status].padEnd(width);
      const from = d.from ? ` (from ${d.from})` : '';
      const reason =
        d.reason && d.status !== 'not-applied' ? `: ${d.reason}` : '';
      out.push(`  ${label}${d.resource}${from}${reason}`);
      for (const p of d.problems ?? [])
        out.push(
          `  ${''.padEnd(width)}  ${p.path ? `${p.path}: ` : ''}${p.message}`,
        );
    }
    if (!cluster) {
      const secrets = project.credentialSecrets;
      let named = 'the Secrets of its namespace could not be listed';
      if (secrets?.length === 0)
        named = `no Secret in namespace ${project.project} is labelled ${CREDENTIAL_LABEL}`;
      else if (secrets)
        named = `Secrets labelled ${CREDENTIAL_LABEL} in namespace ${
          project.project
        }: ${secrets.join(', ')}`;
      out.push(
        `  ${'credentials'.padEnd(
          width,
        )}not imported: re-create them for Stagecoach (${named})`,
      );
    }
    for (const w of project.warnings) out.push(`  warning: ${w}`);
    if (project.error) out.push(`  error: ${project.error}`);
    if (options.dryRun && project.yaml)
      out.push(
        `  the manifests that would be sent to PUT /api/stagecoach/${
          cluster ? 'cluster' : `projects/${project.project}`
        }/manifests:`,
        project.yaml.trimEnd(),
      );
  }
  const all = scopes.flatMap(({ scope }) => scope.documents);
  const count = (s: DocumentReport['status']) =>
    all.filter(d => d.status === s).length;
  const parts = (Object.keys(LABELS) as DocumentReport['status'][])
    .filter(s => count(s) > 0)
    .map(s => `${count(s)} ${LABELS[s]}`);
  out.push(
    '',
    `${report.projects.length} project${
      report.projects.length === 1 ? '' : 's'
    }: ${parts.join(', ') || 'no documents'}.`,
  );
  out.push(
    'Freight history and Promotions are not imported: the warehouses discover freight again.',
  );
  return `${out.join('\n')}\n`;
}
