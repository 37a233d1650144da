import type { Request } from 'express';
import type {
  AuditorService,
  AuditorServiceCreateEventOptions,
  AuditorServiceEventSeverityLevel,
} from '@backstage/backend-plugin-api';

type JsonObject = NonNullable<AuditorServiceCreateEventOptions['meta']>;

/** What one change is, for the audit log: its event ID and what it concerns. */
export interface AuditedChange {
  /** e.g. `promotion-create`; Backstage's auditor prefixes the plugin ID. */
  eventId: string;
  /** The project, stage, freight, promotion ... the change concerns. */
  meta: JsonObject;
  severityLevel?: AuditorServiceEventSeverityLevel;
}

/**
 * Runs a change of the API as one auditor event: created before anything is checked (a
 * refused attempt is recorded too), marked success with what the change produced, or failed
 * with the error. The auditor records the actor from the request's credentials.
 */
export async function audited<T>(
  auditor: AuditorService,
  req: Request,
  change: AuditedChange,
  run: () => Promise<T>,
  outcome: (result: T) => JsonObject = () => ({}),
): Promise<T> {
  const event = await auditor.createEvent({
    eventId: change.eventId,
    severityLevel: change.severityLevel ?? 'medium',
    request: req,
    meta: change.meta,
  });
  let result: T;
  try {
    result = await run();
  } catch (error) {
    await event.fail({ error: error as Error });
    throw error;
  }
  await event.success({ meta: outcome(result) });
  return result;
}
