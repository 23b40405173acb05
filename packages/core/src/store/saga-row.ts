import { InvalidArgumentError } from '../errors/index.ts';
import type { SagaInstance, SagaStatus, SagaStepRecord } from './store.ts';

/** What a saga row keeps as JSON: everything but the columns that are queried. */
interface SagaBody {
  data: unknown;
  stepIndex: number;
  steps: SagaStepRecord[];
  reason: string | null;
  correlationId: string;
  traceContext?: Readonly<Record<string, string>>;
}

type NewSagaInstance = Omit<SagaInstance, 'version' | 'createdAt' | 'updatedAt'>;

/** The JSON body both backends store for an instance. */
export function sagaBodyOf(instance: NewSagaInstance): string {
  const body: SagaBody = {
    data: instance.data,
    stepIndex: instance.stepIndex,
    steps: instance.steps,
    reason: instance.reason,
    correlationId: instance.correlationId,
    ...(instance.traceContext ? { traceContext: instance.traceContext } : {}),
  };
  return JSON.stringify(body);
}

/** The wake-up time, refusing text that is not a time (it would fail, or mis-sort, the statement). */
export function sagaWakeTimeOf(instance: Pick<SagaInstance, 'sagaId' | 'wakeAt'>): Date | null {
  if (instance.wakeAt === null) return null;
  const wakeAt = new Date(instance.wakeAt);
  if (Number.isNaN(wakeAt.getTime())) {
    throw new InvalidArgumentError(
      'wakeAt',
      `wakeAt "${instance.wakeAt}" of saga ${instance.sagaId} is not a time`,
      {
        sagaId: instance.sagaId,
      },
    );
  }
  return wakeAt;
}

/** A saga row as either backend returns it: times as Date or epoch ms, the body as JSON text or parsed. */
export interface SagaRow {
  saga_id: string;
  saga_name: string;
  status: SagaStatus;
  version: number | string;
  wake_at: Date | number | null;
  created_at: Date | number;
  updated_at: Date | number;
  body: unknown;
}

/** A stored row back as an instance. */
export function sagaInstanceFromRow(row: SagaRow): SagaInstance {
  const body = (typeof row.body === 'string' ? JSON.parse(row.body) : row.body) as SagaBody;
  const iso = (time: Date | number) => new Date(time).toISOString();
  return {
    sagaId: row.saga_id,
    sagaName: row.saga_name,
    status: row.status,
    data: body.data,
    stepIndex: body.stepIndex,
    steps: body.steps,
    wakeAt: row.wake_at === null ? null : iso(row.wake_at),
    reason: body.reason,
    correlationId: body.correlationId,
    ...(body.traceContext ? { traceContext: body.traceContext } : {}),
    version: Number(row.version),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}
