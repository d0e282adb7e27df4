import { alarmsOfProject } from '../../project/alarms.js';
import { AlarmEngine } from './engine.js';
import type { Runtime } from '../runtime.js';

export interface AlarmSetupOptions {
  /** Journal retention in days (default 365). */
  retentionDays?: number | undefined;
  /**
   * A cluster member: makes the engine a member before it starts (src/cluster/alarms.ts) and returns what to
   * call once it started.
   */
  join?: ((engine: AlarmEngine) => Promise<{ ready(): void }>) | undefined;
}

/**
 * Creates the alarm engine over the runtime's tag engine and storage and starts it. Call before
 * `runtime.start()` so that it hears the drivers' first values (that is when conditions that went away while the
 * server was down are cleared). Stops with the runtime, before storage closes. The composition root hands it to
 * whoever needs it (services, push, front ends); there is no lookup by runtime.
 */
export async function createAlarmEngine(runtime: Runtime, opts: AlarmSetupOptions = {}): Promise<AlarmEngine> {
  const { definitions, classes } = alarmsOfProject(runtime.project);
  const engine = new AlarmEngine({
    tags: runtime.tags,
    journal: runtime.storage.alarmJournal,
    settings: runtime.storage.alarmSettings,
    clock: runtime.clock,
    definitions,
    classes,
    retentionDays: opts.retentionDays ?? 365,
    logger: runtime.logger,
  });
  const member = await opts.join?.(engine);
  await engine.start();
  runtime.onStop(() => engine.stop());
  member?.ready();
  return engine;
}
