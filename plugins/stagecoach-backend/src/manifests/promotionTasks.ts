import type { PromotionStepDefinition, PromotionTaskSpec, RunnableStep } from './schemas';

export interface InflationProblem {
  /** Path under the stage's `spec.promotionTemplate.spec.steps`, e.g. `[2].vars`. */
  path: (string | number)[];
  message: string;
}

/** The alias a step gets when it has no `as`: its position, counted from 1. */
export const defaultStepAlias = (index: number) => `step-${index + 1}`;

/** The alias a step calling a PromotionTask gets when it has no `as` (Kargo's `task-<n>`). */
const defaultTaskAlias = (index: number) => `task-${index + 1}`;

/**
 * Steps of one list (a stage's promotion template, or a PromotionTask) that share an alias:
 * its `as`, else the default (`step-<n>`, or `task-<n>` for a step calling a task). Their
 * outputs would be one `outputs.<alias>`. Unique aliases in each list keep the inflated ones
 * (`<calling step>::<task step>`) unique too, since `:` cannot be written in an alias.
 */
export function duplicateAliases(
  steps: readonly { as?: string; task?: unknown }[],
): InflationProblem[] {
  const first = new Map<string, number>();
  const problems: InflationProblem[] = [];
  steps.forEach((step, i) => {
    const alias = step.as ?? (step.task ? defaultTaskAlias(i) : defaultStepAlias(i));
    const earlier = first.get(alias);
    if (earlier === undefined) {
      first.set(alias, i);
      return;
    }
    const named = steps[earlier].as === undefined ? ` (its default alias, as it has no "as")` : '';
    problems.push({
      path: [i, 'as'],
      message: `alias "${alias}" is already step ${earlier + 1}'s${named}: each step needs its own, since its outputs are outputs.${alias}`,
    });
  });
  return problems;
}

/**
 * Replaces every `task:` step of a promotion template by the PromotionTask's steps. Each
 * inflated step is aliased `<calling step>::<task step>` and carries the task's vars with the
 * caller's inputs applied; an input the task requires (a var without a value) that the
 * caller does not give is a problem, as is a task that is not in the set of manifests (a
 * ClusterPromotionTask: not in the cluster scope).
 */
export function inflateTasks(
  steps: PromotionStepDefinition[],
  tasks: ReadonlyMap<string, PromotionTaskSpec>,
  /** The cluster scope's ClusterPromotionTasks, which `task: {kind: ClusterPromotionTask}` names. */
  clusterTasks: ReadonlyMap<string, PromotionTaskSpec> = new Map(),
): { steps: RunnableStep[]; problems: InflationProblem[] } {
  const out: RunnableStep[] = [];
  const problems: InflationProblem[] = [];
  steps.forEach((step, i) => {
    const { task: ref, uses, ...rest } = step;
    if (!ref) {
      // once a task has added steps, positions shift: a step keeps the alias of its place in the manifest
      const pinned = step.as === undefined && out.length !== i ? { as: defaultStepAlias(i) } : {};
      out.push({ ...rest, ...pinned, uses: uses! });
      return;
    }
    const alias = step.as ?? defaultTaskAlias(i);
    const cluster = ref.kind === 'ClusterPromotionTask';
    const task = (cluster ? clusterTasks : tasks).get(ref.name);
    if (!task) {
      const message = cluster
        ? `names ClusterPromotionTask "${ref.name}", which the cluster scope does not have (it has: ${[...clusterTasks.keys()].join(', ') || 'none'}); an admin applies it with PUT /api/stagecoach/cluster/manifests`
        : `names PromotionTask "${ref.name}", which is not in this set of manifests`;
      problems.push({ path: [i, 'task', 'name'], message });
      return;
    }
    const given = new Map((step.vars ?? []).map(v => [v.name, v]));
    const vars = (task.vars ?? []).map(v => given.get(v.name) ?? v);
    for (const v of task.vars ?? []) {
      if (v.value === undefined && given.get(v.name)?.value === undefined) {
        problems.push({
          path: [i, 'vars'],
          message: `PromotionTask "${ref.name}" needs the input "${v.name}": add {name: ${v.name}, value: ...} to this step's vars`,
        });
      }
    }
    for (const name of given.keys()) {
      if (!(task.vars ?? []).some(v => v.name === name)) {
        problems.push({
          path: [i, 'vars'],
          message: `PromotionTask "${ref.name}" has no var "${name}" (it has: ${(task.vars ?? []).map(v => v.name).join(', ') || 'none'})`,
        });
      }
    }
    task.steps.forEach((inner, j) => {
      out.push({
        ...inner,
        as: `${alias}::${inner.as ?? defaultStepAlias(j)}`,
        // the calling step's own condition and error handling wrap every step of the task
        if: combineConditions(step.if, inner.if),
        continueOnError: inner.continueOnError ?? step.continueOnError,
        retry: inner.retry ?? step.retry,
        task: { alias, vars, ...(cluster ? { clusterTask: ref.name } : {}) },
      });
    });
  });
  return { steps: out, problems };
}

function combineConditions(outer?: string, inner?: string): string | undefined {
  if (!outer) return inner;
  if (!inner) return outer;
  const bare = (s: string) => s.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1').trim();
  return `\${{ (${bare(outer)}) && (${bare(inner)}) }}`;
}
