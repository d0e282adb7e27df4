import type { SimulationSpec } from '../../domain/tag-definition.js';

/**
 * Pure waveform functions of time (and, for stateful kinds, of the previous value) so that the simulator's
 * output is testable without timers. Results are plain numbers; the driver converts them to the tag type.
 */
export interface WaveformInput {
  spec: SimulationSpec;
  /** Epoch milliseconds. */
  t: number;
  previous: number;
  random: () => number;
}

export function waveform({ spec, t, previous, random }: WaveformInput): number {
  const min = spec.min ?? 0;
  const max = spec.max ?? 100;
  const period = spec.periodMs ?? 60_000;
  const phase = (((t % period) + period) % period) / period;
  switch (spec.kind) {
    case 'sine':
      return min + (max - min) * (0.5 + 0.5 * Math.sin(2 * Math.PI * phase));
    case 'ramp':
      return min + (max - min) * phase;
    case 'square':
      return phase < 0.5 ? max : min;
    case 'random':
      return min + (max - min) * random();
    case 'randomWalk': {
      const step = spec.step ?? (max - min) / 50;
      const start = Number.isFinite(previous) ? previous : (min + max) / 2;
      return Math.min(max, Math.max(min, start + (random() * 2 - 1) * step));
    }
    case 'counter': {
      // Starts at min (as the 64-bit counter does), then +step per cycle, back to min after max.
      if (!Number.isFinite(previous)) return min;
      const next = previous + (spec.step ?? 1);
      return next > max ? min : next;
    }
    case 'constant':
    case 'clock':
    case 'text':
      return previous;
  }
}
