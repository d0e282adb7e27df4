import type { Clock } from '../../domain/clock.js';
import { TagwayError } from '../../domain/problems.js';
import type { AlarmSetting, AlarmSettingsRepository } from '../../storage/alarm-journal-repository.js';
import type { AlarmRuntime } from './alarm-runtime.js';
import type { AlarmLogger } from './types.js';

/**
 * Operator overrides of a definition (disabled, shelved until a time): stored before they take effect, restored
 * after a restart, and the shelf timers that end them.
 */
export class AlarmSettings {
  constructor(
    private readonly repo: AlarmSettingsRepository,
    private readonly clock: Clock,
    /** A shelf ran out: judge the alarm again. */
    private readonly shelfEnded: (a: AlarmRuntime) => void,
    private readonly logger?: AlarmLogger | undefined,
  ) {}

  /** Overrides from before a restart: disabled stays disabled, a shelf that has not expired holds. */
  async restore(alarms: ReadonlyMap<string, AlarmRuntime>): Promise<void> {
    const stored = await this.repo.load();
    const now = this.clock.now();
    for (const [name, st] of stored) {
      const a = alarms.get(name);
      if (!a?.def) continue;
      a.enabled = st.enabled;
      if (st.shelvedUntil !== null && st.shelvedUntil > now) this.shelveUntil(a, st.shelvedUntil);
    }
  }

  /**
   * Stores an operator's override before it takes effect; STORAGE_UNAVAILABLE (and nothing changed) when it
   * cannot be stored, so an answered action always survives a restart.
   */
  async store(a: AlarmRuntime, setting: AlarmSetting): Promise<void> {
    try {
      await this.repo.save(a.name, setting);
    } catch (err) {
      throw new TagwayError('STORAGE_UNAVAILABLE', 'The alarm setting cannot be stored now', {
        headers: { 'Retry-After': '1' },
        cause: err,
      });
    }
  }

  shelveUntil(a: AlarmRuntime, until: number): void {
    if (a.shelveTimer !== undefined) this.clock.clearTimeout(a.shelveTimer);
    a.shelvedUntil = until;
    a.shelveTimer = this.clock.setTimeout(() => {
      a.shelveTimer = undefined;
      a.shelvedUntil = undefined;
      this.repo.save(a.name, { enabled: a.enabled, shelvedUntil: null }).catch((err: unknown) => {
        // The stored shelf has run out anyway: a restart ignores it.
        this.logger?.error({ err }, 'could not store the end of an alarm shelf');
      });
      this.shelfEnded(a);
    }, until - this.clock.now());
  }

  unshelve(a: AlarmRuntime): void {
    if (a.shelveTimer !== undefined) this.clock.clearTimeout(a.shelveTimer);
    a.shelveTimer = undefined;
    a.shelvedUntil = undefined;
  }

  stopTimers(alarms: Iterable<AlarmRuntime>): void {
    for (const a of alarms) {
      if (a.shelveTimer !== undefined) this.clock.clearTimeout(a.shelveTimer);
      a.shelveTimer = undefined;
    }
  }
}
