import { Quality } from '../../domain/quality.js';
import {
  BIG_INTEGER_RANGES,
  INTEGER_RANGES,
  defaultValue,
  isBigIntegerType,
  toNumber,
  type TagType,
  type TagValue,
} from '../../domain/tag-types.js';
import type { Driver, DriverHost, DriverTag } from '../driver.js';
import { waveform } from './waveforms.js';

/**
 * Simulated device: each tag follows its waveform, updated on its own cycle. Tags are grouped by cycle so that
 * 100,000 tags cost a handful of timers, not 100,000.
 */
export class SimulatorDriver implements Driver {
  private readonly timers: unknown[] = [];
  private readonly state = new Map<number, TagValue>();
  private readonly byCycle = new Map<number, DriverTag[]>();
  private ticks = 0;
  private writes = 0;

  constructor(
    private readonly tags: DriverTag[],
    private readonly host: DriverHost,
    private readonly random: () => number = Math.random,
  ) {
    for (const tag of tags) {
      const cycle = tag.def.simulation?.cycleMs ?? 1000;
      const list = this.byCycle.get(cycle) ?? [];
      list.push(tag);
      this.byCycle.set(cycle, list);
    }
  }

  async start(): Promise<void> {
    const now = this.host.clock.now();
    for (const tag of this.tags) {
      if (tag.def.initial !== undefined) this.state.set(tag.index, tag.def.initial);
      this.tick(tag, now);
    }
    for (const [cycle, list] of this.byCycle) {
      this.timers.push(
        this.host.clock.setInterval(() => {
          const t = this.host.clock.now();
          this.ticks++;
          for (let i = 0; i < list.length; i++) this.tick(list[i]!, t);
        }, cycle),
      );
    }
    this.host.state('CONNECTED');
  }

  async stop(): Promise<void> {
    for (const t of this.timers) this.host.clock.clearInterval(t);
    this.timers.length = 0;
    this.host.state('DISCONNECTED', 'stopped');
  }

  async write(tag: DriverTag, value: TagValue): Promise<void> {
    this.state.set(tag.index, value);
    this.writes++;
  }

  stats() {
    return { reads: this.ticks, writes: this.writes, errors: 0 };
  }

  private tick(tag: DriverTag, t: number): void {
    const spec = tag.def.simulation;
    if (!spec) return;
    const type = tag.def.type;
    const prevValue = this.state.get(tag.index);
    let value: TagValue;
    if (spec.kind === 'clock') value = new Date(t).toISOString();
    else if (spec.kind === 'text') {
      const values = spec.values ?? [''];
      value = values[Math.floor(t / spec.cycleMs) % values.length]!;
    } else if (spec.kind === 'constant') {
      value = prevValue ?? tag.def.initial ?? defaultValue(type);
    } else if (spec.kind === 'counter' && isBigIntegerType(type)) {
      value = bigCounter(type, spec.step ?? 1, spec.min, spec.max, prevValue);
    } else {
      const previous = prevValue === undefined ? NaN : toNumber(type, prevValue);
      value = toType(type, waveform({ spec, t, previous, random: this.random }), spec.min, spec.max);
    }
    this.state.set(tag.index, value);
    this.host.update(tag.index, value, Quality.GOOD, t);
  }
}

/** Converts a waveform number to the tag's wire form, rounding and clamping to what the type can hold. */
export function toType(type: TagType, x: number, min = 0, max = 100): TagValue {
  switch (type) {
    case 'Bool':
      return x >= (min + max) / 2;
    case 'Float32':
    case 'Float64':
      return Math.round(x * 1e4) / 1e4;
    case 'Int64':
    case 'UInt64': {
      const r = BIG_INTEGER_RANGES[type];
      let b = BigInt(Math.round(x));
      if (b < r.min) b = r.min;
      if (b > r.max) b = r.max;
      return b.toString();
    }
    case 'String':
      return x.toFixed(2);
    case 'DateTime':
      return new Date(Math.round(x)).toISOString();
    default: {
      const r = INTEGER_RANGES[type];
      return Math.min(r.max, Math.max(r.min, Math.round(x)));
    }
  }
}

function bigCounter(
  type: 'Int64' | 'UInt64',
  step: number,
  min: number | undefined,
  max: number | undefined,
  prev: TagValue | undefined,
): string {
  const r = BIG_INTEGER_RANGES[type];
  // Like every other counter, it starts at 0 unless `min` says otherwise (not at -2^63 for an Int64).
  const lo = min === undefined ? 0n : BigInt(Math.round(min));
  const hi = max === undefined ? r.max : BigInt(Math.round(max));
  const base = prev === undefined ? lo - BigInt(Math.round(step)) : BigInt(prev as string);
  const next = base + BigInt(Math.round(step));
  return (next > hi ? lo : next).toString();
}
