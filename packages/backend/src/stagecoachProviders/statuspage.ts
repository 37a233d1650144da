import { z } from 'zod';
import {
  createVerificationProvider,
  VerificationProviderContext,
} from '@stagecoach/plugin-stagecoach-node';

/**
 * `statuspage`: a metric provider that reads a status page in the Atlassian Statuspage format
 * (`/api/v2/status.json`, `/api/v2/components.json`), which many SaaS vendors and internal
 * platforms publish. A stage is verified only while what it depends on reports no incident:
 *
 *   provider:
 *     statuspage: {url: https://status.payments.example.com, component: Card API}
 *   successCondition: result == "operational"
 *
 * The result is the page's overall indicator (`none`, `minor`, `major`, `critical`), or, with
 * `component`, that component's status (`operational`, `degraded_performance`,
 * `partial_outage`, `major_outage`, `under_maintenance`). An example of a provider a
 * platform team adds through the extension point.
 */

const schema = z
  .object({
    /** The status page's address; its API is under `/api/v2`. */
    url: z
      .string()
      .url(
        "must be the status page's address, such as https://status.example.com",
      )
      .refine(
        u => /^https?:$/.test(new URL(u).protocol),
        'must be an http:// or https:// address',
      )
      // the address is shown with every measurement
      .refine(
        u => !new URL(u).username && !new URL(u).password,
        'must not hold credentials',
      ),
    /** A component's name, as the page shows it: its status is the result. */
    component: z
      .string()
      .min(1, 'must name a component of the page')
      .optional(),
  })
  .strict();

type StatusPageConfig = z.infer<typeof schema>;

/** GETs one document of the page's API and reads it as JSON; any answer but 2xx fails. */
async function getJson(
  ctx: VerificationProviderContext,
  url: string,
): Promise<unknown> {
  const res = await ctx.request({
    url,
    headers: { accept: 'application/json' },
    timeoutMs: 10_000,
  });
  if (res.status < 200 || res.status > 299) {
    throw new Error(`${url} answered ${res.status}`);
  }
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new Error(`${url} did not answer with JSON`);
  }
}

async function componentStatus(
  ctx: VerificationProviderContext,
  page: string,
  name: string,
): Promise<string> {
  const doc = (await getJson(ctx, `${page}/api/v2/components.json`)) as {
    components?: Array<{ name?: unknown; status?: unknown }>;
  };
  const components = Array.isArray(doc?.components) ? doc.components : [];
  const found = components.find(c => c.name === name);
  if (typeof found?.status !== 'string') {
    const names = components.map(c => String(c.name)).join(', ') || 'none';
    throw new Error(
      `the status page has no component "${name}" (components: ${names})`,
    );
  }
  return found.status;
}

async function pageIndicator(
  ctx: VerificationProviderContext,
  page: string,
): Promise<{ indicator: string; description?: string }> {
  const doc = (await getJson(ctx, `${page}/api/v2/status.json`)) as {
    status?: { indicator?: unknown; description?: unknown };
  };
  const { indicator, description } = doc?.status ?? {};
  if (typeof indicator !== 'string') {
    throw new Error(`${page}/api/v2/status.json has no status.indicator`);
  }
  return {
    indicator,
    ...(typeof description === 'string' ? { description } : {}),
  };
}

export const statuspageProvider = createVerificationProvider<StatusPageConfig>({
  name: 'statuspage',
  description:
    "Read a Statuspage-format status page; the page's indicator, or a component's status, is the result.",
  schema,
  async run(ctx, metric) {
    const { url, component } = metric.config;
    const page = url.replace(/\/+$/, '');
    if (component) {
      const status = await componentStatus(ctx, page, component);
      return ctx.measured(status, { metadata: { page, component } });
    }
    const { indicator, description } = await pageIndicator(ctx, page);
    return ctx.measured(indicator, {
      metadata: { page, ...(description ? { description } : {}) },
    });
  },
});
