import { simulateJobs, JobScript, JobSimulator } from '../../__testUtils__/jobSimulator';
import { KubeApiServer, startKubeApi } from '../../__testUtils__/kubeApi';
import { kubeClustersFromOptions } from '../../integrations/kubernetes/KubeClusters';
import { JOBS, PODS } from '../../integrations/kubernetes/types';
import { unconfiguredClusters } from '../../integrations/kubernetes/unconfigured';
import { silentLogger } from '../../util/types';
import type { MeasureContext, Metric } from '../types';
import { jobName, jobProvider, KEPT_LOG_BYTES } from './job';

const NS = 'stagecoach-verify';

function metric(job: Record<string, unknown>, name = 'smoke-test'): Metric {
  return { name, count: 1, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4, provider: { job } };
}

const smokeJob = {
  metadata: { labels: { team: 'payments' }, annotations: { 'example.com/owner': 'qa' } },
  spec: {
    backoffLimit: 0,
    template: {
      spec: {
        containers: [{ name: 'check', image: 'curlimages/curl:8.8.0', command: ['curl', '-fsS', 'http://guestbook.dev/healthz'] }],
        restartPolicy: 'Never',
      },
    },
  },
};

describe('job metric provider (loopback Kubernetes API)', () => {
  let api: KubeApiServer;
  let jobs: JobSimulator;
  let ctx: MeasureContext;
  let script: (job: any) => JobScript;
  const warnings: string[] = [];

  beforeEach(async () => {
    api = await startKubeApi({ token: 'verify-token' });
    script = () => ({ outcome: 'succeed', logs: 'ok\n' });
    jobs = simulateJobs(api, job => script(job));
    warnings.length = 0;
    ctx = {
      project: 'shop',
      stage: 'dev',
      verificationId: 'dev.lz3k9c.1a2b3c4d',
      fetch,
      kube: kubeClustersFromOptions([{ name: 'workloads', url: api.url, token: 'verify-token', skipTLSVerify: true }]),
      jobs: { namespace: NS },
      logger: { ...silentLogger, warn: m => warnings.push(m) },
      now: () => new Date('2026-05-01T10:00:00Z'),
    };
  });
  afterEach(async () => {
    jobs.stop();
    await api.close();
  });

  it('runs the Job, reports Running until it completes, then Successful with its logs, and deletes it', async () => {
    script = () => ({ outcome: 'succeed', logs: 'GET /healthz 200\nall checks passed\n' });
    const running = await jobProvider.run(ctx, metric(smokeJob));
    expect(running.phase).toBe('Running');
    const name = running.metadata!.job;
    expect(running.metadata).toEqual({ job: name, namespace: NS, cluster: 'workloads' });
    expect(name).toMatch(/^dev-lz3k9c-1a2b3c4d-smoke-test-[a-z0-9]+$/);

    const job = api.get(JOBS, NS, name)!;
    expect(job.metadata.labels).toEqual({
      team: 'payments',
      'stagecoach.io/verification': 'dev.lz3k9c.1a2b3c4d',
      'stagecoach.io/project': 'shop',
      'stagecoach.io/stage': 'dev',
      'stagecoach.io/metric': 'smoke-test',
    });
    expect(job.metadata.annotations).toEqual({ 'example.com/owner': 'qa' });
    expect(job.spec.template.spec.containers[0].image).toBe('curlimages/curl:8.8.0');
    expect(job.spec.backoffLimit).toBe(0);
    const pod = api.list(PODS, NS)[0];
    expect(pod.metadata.name).toMatch(new RegExp(`^${name}-[a-z0-9]{5}$`));

    // still running: asked again, nothing changes
    expect(await jobProvider.resume!(ctx, metric(smokeJob), running)).toEqual(running);

    jobs.finish(name);
    const done = await jobProvider.resume!(ctx, metric(smokeJob), running);
    expect(done).toMatchObject({ phase: 'Successful', startedAt: running.startedAt, finishedAt: '2026-05-01T10:00:00.000Z' });
    expect(done.metadata).toMatchObject({ job: name, namespace: NS, cluster: 'workloads', logs: 'GET /healthz 200\nall checks passed\n' });

    // the Job and its pod are gone, deleted in the background
    expect(api.get(JOBS, NS, name)).toBeUndefined();
    expect(api.list(PODS, NS)).toEqual([]);
    const deletion = api.requests.find(r => r.method === 'DELETE')!;
    expect(deletion.query.get('propagationPolicy')).toBe('Background');
  });

  it('fails with the end of the pod log in its message, keeping the last 4 KiB of log', async () => {
    const log = `${Array.from({ length: 400 }, (_, i) => `step ${i}: ok\n`).join('')}expected 200, got 503 from guestbook.dev\n`;
    script = () => ({ outcome: 'fail', logs: log, message: 'Job has reached the specified backoff limit' });
    const running = await jobProvider.run(ctx, metric(smokeJob));
    jobs.finish(running.metadata!.job);
    const failed = await jobProvider.resume!(ctx, metric(smokeJob), running);
    expect(failed.phase).toBe('Failed');
    expect(failed.message).toContain(`job "${running.metadata!.job}" in namespace "${NS}" on cluster "workloads" failed (BackoffLimitExceeded: Job has reached the specified backoff limit)`);
    expect(failed.message).toContain('step 399: ok\nexpected 200, got 503 from guestbook.dev');
    expect(failed.message).not.toContain('step 0: ok');
    const kept = failed.metadata!.logs;
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(KEPT_LOG_BYTES);
    expect(kept.endsWith('expected 200, got 503 from guestbook.dev\n')).toBe(true);
    expect(api.get(JOBS, NS, running.metadata!.job)).toBeUndefined();
  });

  it("collects every container's log of a pod with several", async () => {
    script = () => ({ outcome: 'succeed', containerLogs: { check: 'checked\n', sidecar: 'proxy up\n' } });
    const twoContainers = {
      spec: { template: { spec: { containers: [{ name: 'check', image: 'a' }, { name: 'sidecar', image: 'b' }] } } },
    };
    const running = await jobProvider.run(ctx, metric(twoContainers));
    // no restartPolicy given: Never, as a Job requires
    expect(api.get(JOBS, NS, running.metadata!.job)!.spec.template.spec.restartPolicy).toBe('Never');
    jobs.finish(running.metadata!.job);
    const done = await jobProvider.resume!(ctx, metric(twoContainers), running);
    expect(done.metadata!.logs).toContain('(check) ---\nchecked\n');
    expect(done.metadata!.logs).toContain('(sidecar) ---\nproxy up\n');
  });

  it('a Job deleted before it finished is an Error saying so', async () => {
    const running = await jobProvider.run(ctx, metric(smokeJob));
    api.remove(JOBS, NS, running.metadata!.job);
    const result = await jobProvider.resume!(ctx, metric(smokeJob), running);
    expect(result.phase).toBe('Error');
    expect(result.message).toContain(`job "${running.metadata!.job}" in namespace "${NS}" on cluster "workloads" was deleted before it finished`);
    expect(result.finishedAt).toBeDefined();
  });

  it('terminate deletes the running Job and ends the measurement as aborted', async () => {
    const running = await jobProvider.run(ctx, metric(smokeJob));
    const name = running.metadata!.job;
    const stopped = await jobProvider.terminate!(ctx, metric(smokeJob), running);
    expect(stopped.phase).toBe('Error');
    expect(stopped.message).toContain('the verification was aborted');
    expect(stopped.finishedAt).toBeDefined();
    expect(api.get(JOBS, NS, name)).toBeUndefined();
    expect(api.list(PODS, NS)).toEqual([]);
    expect(jobs.job(name)?.state).toBe('deleted');
  });

  it.each([
    [{ spec: { backoffLimit: 1 } }, 'provider.job.spec.template is required'],
    [{}, 'provider.job.spec is required'],
    [{ spec: { template: {} } }, 'provider.job.spec.template.spec is required'],
    [{ spec: { template: { spec: { containers: [] } } } }, 'provider.job.spec.template.spec.containers needs at least one container'],
    [{ spec: { template: { spec: { containers: [{ name: 'c' }] } } } }, 'provider.job.spec.template.spec.containers[0].image is required'],
    [{ spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }], restartPolicy: 'Always' } } } }, 'provider.job.spec.template.spec.restartPolicy must be Never or OnFailure'],
    [{ spec: smokeJob.spec, template: {} }, 'provider.job has unknown key template'],
  ])('a bad job config %j is an Error naming the field', async (job, message) => {
    const result = await jobProvider.run(ctx, metric(job));
    expect(result.phase).toBe('Error');
    expect(result.message).toContain(`metric smoke-test: ${message}`);
    expect(api.list(JOBS, NS)).toEqual([]);
  });

  it('a Kubernetes error is an Error with its message (here: RBAC forbids creating Jobs)', async () => {
    api.deny({ verb: 'create', group: 'batch', resource: 'jobs', namespace: NS });
    const result = await jobProvider.run(ctx, metric(smokeJob));
    expect(result.phase).toBe('Error');
    expect(result.message).toContain('forbids Stagecoach to create jobs.batch');
    expect(result.message).toContain(`in namespace "${NS}"`);
    expect(result.message).toContain('verbs: ["create"]');
    expect(result.message).not.toContain('verify-token');
  });

  it('without a configured cluster the measurement is an Error saying how to configure one', async () => {
    const result = await jobProvider.run({ ...ctx, kube: unconfiguredClusters }, metric(smokeJob));
    expect(result.phase).toBe('Error');
    expect(result.message).toContain('set stagecoach.kubernetes.clusters in app-config');
  });

  it('asking again after a restart adopts the Job it already created', async () => {
    const withNumber = { ...ctx, measurement: 2 } as MeasureContext;
    const first = await jobProvider.run(withNumber, metric(smokeJob));
    const again = await jobProvider.run(withNumber, metric(smokeJob));
    expect(again).toEqual(first);
    expect(first.metadata!.job).toBe('dev-lz3k9c-1a2b3c4d-smoke-test-2');
    expect(api.list(JOBS, NS)).toHaveLength(1);
  });

  it('job names are DNS labels of at most 63 characters, distinct for distinct inputs', () => {
    const long = 'a-very-long-stage-name-that-goes-on.lz3k9c.1a2b3c4d';
    const a = jobName(long, 'Error_Rate.Check', 1);
    const b = jobName(long, 'Error_Rate.Check', 2);
    for (const n of [a, b]) {
      expect(n.length).toBeLessThanOrEqual(63);
      expect(n).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    expect(a).not.toBe(b);
  });
  describe('the pod policy at run time (defence in depth: the manifests were checked when applied)', () => {
    it('fills in the restricted level\'s settings the manifest left out', async () => {
      const running = await jobProvider.run(ctx, metric(smokeJob));
      const pod = api.get(JOBS, NS, running.metadata!.job)!.spec.template.spec;
      expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    });

    it('creates no Job for a pod the policy refuses, and says which field', async () => {
      const privileged = {
        spec: { template: { spec: { hostPID: true, containers: [{ name: 'x', image: 'busybox', securityContext: { privileged: true } }] } } },
      };
      const m = await jobProvider.run(ctx, metric(privileged));
      expect(m.phase).toBe('Error');
      expect(m.message).toBe(
        'metric smoke-test: the pod policy refuses its job: ' +
          "provider.job.spec.template.spec.hostPID: must not be true: a job pod may not share the node's namespaces (restricted Pod Security level); " +
          'provider.job.spec.template.spec.containers[0].securityContext.privileged: must not be true: a job container may not be privileged (restricted Pod Security level)',
      );
      expect(api.requests.filter(r => r.verb === 'create')).toEqual([]);
    });

    it("runs no job in a protected namespace that the project's name would make", async () => {
      const m = await jobProvider.run({ ...ctx, project: 'kube-system', jobs: {} }, metric(smokeJob));
      expect(m.phase).toBe('Error');
      expect(m.message).toMatch(/^metric smoke-test: its job may not run: job metrics of project "kube-system" would run in namespace "kube-system"/);
      expect(api.requests.filter(r => r.verb === 'create')).toEqual([]);
    });
  });
});
