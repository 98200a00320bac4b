/** What the workers are given by their composition root (workers/main.ts). Each stage picks what it needs. */
import type { Logger } from 'pino';
import type { ArtifactStore } from '../shared/artifacts/artifact-store.js';
import type { DiskReading, DiskState } from '../shared/artifacts/disk-space.js';
import type { Config } from '../shared/config.js';
import type { IldEngine } from '../shared/engines/contract.js';
import type { ImageSource } from '../shared/pacs/source.js';
import type { PurgeRunSummary, ReconcileRunSummary } from '../shared/metrics.js';
import type { Pipeline } from '../shared/queues.js';
import type { CaseStore } from '../shared/store/case-store.js';
import type { Redis } from '../shared/redis.js';

export type WorkerDeps = Readonly<{
  config: Config;
  redis: Redis;
  store: CaseStore;
  pipeline: Pick<Pipeline, 'enqueueNext' | 'ensure' | 'queues' | 'plannedId'>;
  artifacts: ArtifactStore;
  source: ImageSource;
  engine: IldEngine;
  logger: Logger;
  clock: () => Date;
  /** Called with each finished stage's duration (seconds) for the stage histogram. */
  observeStage?: (stage: string, outcome: 'ok' | 'error', seconds: number) => void;
  /** Called with each reconciler run's summary (workers/reconcile) for its metrics. */
  observeReconcile?: (run: ReconcileRunSummary) => void;
  /** Called with each spool purge run's summary (workers/purge-spools) for its metrics. */
  observePurge?: (run: PurgeRunSummary) => void;
  /**
   * The data volume's free space (statfs on ILDFLOW_DATA_DIR, read every 250 ms while a retrieval streams,
   * when absent). A test that cannot fill a real disk passes a reading of its own here.
   */
  disk?: Readonly<{ read(): Promise<DiskReading>; watchMs?: number }>;
  /** Called with each reading of the data volume against its watermark, and when a retrieval waits for space. */
  observeDisk?: (state: DiskState) => void;
  observeDiskWait?: () => void;
}>;
