import { describe, expect, it } from 'vitest';
import { asConnectionProblems, GENERIC_CONNECTION_KEYS, OptionReader } from '../../../src/drivers/shared/options.js';

describe('OptionReader', () => {
  it('answers values or defaults, and no problem for a good source', () => {
    const r = new OptionReader(
      { name: 'plc', driver: 'x', host: 'h', port: 503, ratio: 0.5, on: true, order: 'little', v: 5 },
      {
        known: GENERIC_CONNECTION_KEYS,
      },
    );
    expect(r.string('host', { required: true })).toBe('h');
    expect(r.int('port', 502, 1, 65535)).toBe(503);
    expect(r.int('unitId', 1, 0, 255)).toBe(1);
    expect(r.optionalInt('localTSAP', 0, 0xffff)).toBeUndefined();
    expect(r.number('ratio', 1, 0, 1)).toBe(0.5);
    expect(r.boolean('on', false)).toBe(true);
    expect(r.oneOf('order', ['big', 'little'] as const, 'big')).toBe('little');
    expect(r.oneOf('v', [4, 5] as const, 4)).toBe(5);
    expect(r.oneOf('absent', ['a'] as const, undefined)).toBeUndefined();
    expect(r.rejectUnknown()).toEqual([]);
  });

  it('records each malformed value with its path and the value it got, and falls back to the default', () => {
    const r = new OptionReader(
      {
        port: 70000,
        unitId: 'x',
        ratio: 2,
        timeoutMs: 1.5,
        on: 1,
        order: 'middle',
        v: '5',
        host: '',
        url: 'http://x',
        long: 'y'.repeat(100),
        nothing: null,
      },
      { prefix: 'options.' },
    );
    expect(r.int('port', 502, 1, 65535)).toBe(502);
    expect(r.int('unitId', 1, 0, 255)).toBe(1);
    expect(r.number('ratio', 1, 0, 1)).toBe(1);
    expect(r.int('timeoutMs', 1000, 10, 60_000)).toBe(1000);
    expect(r.boolean('on', false)).toBe(false);
    expect(r.oneOf('order', ['big', 'little'] as const, 'big')).toBe('big');
    expect(r.oneOf('v', [4, 5] as const, 5)).toBe(5);
    expect(r.string('host')).toBeUndefined();
    expect(r.string('url', { pattern: /^mqtt:/, patternText: 'an mqtt:// URL' })).toBeUndefined();
    expect(r.string('user', { required: true })).toBeUndefined();
    expect(r.int('long', 1, 0, 9)).toBe(1);
    // An empty YAML value is a value (null), not a missing option: refused, never silently the default.
    expect(r.boolean('nothing', true)).toBe(true);
    expect(r.problems).toEqual([
      ['options.port', 'must be an integer between 1 and 65535, got 70000'],
      ['options.unitId', 'must be an integer between 0 and 255, got "x"'],
      ['options.ratio', 'must be a number between 0 and 1, got 2'],
      ['options.timeoutMs', 'must be an integer between 10 and 60000, got 1.5'],
      ['options.on', 'must be true or false, got 1'],
      ['options.order', 'must be one of "big", "little", got "middle"'],
      ['options.v', 'must be one of 4, 5, got "5"'],
      ['options.host', 'must be a non-empty string'],
      ['options.url', 'must be an mqtt:// URL'],
      ['options.user', 'is required'],
      // The value quoted back is bounded.
      ['options.long', `must be an integer between 0 and 9, got "${'y'.repeat(39)}…`],
      ['options.nothing', 'must be true or false, got null'],
    ]);
  });

  it('reports the keys no reader asked for, with the closest known key, and not the keys read elsewhere', () => {
    const r = new OptionReader(
      { name: 'plc', enabled: true, pollms: 5, password: 'p', wordorder: 'big', zzz: 1 },
      {
        known: GENERIC_CONNECTION_KEYS,
      },
    );
    r.int('pollMs', 1000, 10, 3_600_000);
    r.oneOf('wordOrder', ['big', 'little'] as const, 'big');
    r.markSeen('password');
    expect(r.rejectUnknown()).toEqual([
      ['pollms', "is not an option of this driver; did you mean 'pollMs'?"],
      ['wordorder', "is not an option of this driver; did you mean 'wordOrder'?"],
      ['zzz', 'is not an option of this driver'],
    ]);
  });

  it('shares a problem list between readers and records hand-made problems under its prefix', () => {
    const problems: Array<[string, string]> = [['address', 'bad']];
    const r = new OptionReader({ length: 4 }, { problems, prefix: 'options.' });
    expect(r.has('length')).toBe(true);
    expect(r.has('rawType')).toBe(false);
    expect(r.optionalInt('length', 1, 8)).toBe(4);
    r.problem('rawType', 'does not apply to Bool tags');
    expect(r.rejectUnknown()).toBe(problems);
    expect(problems).toEqual([
      ['address', 'bad'],
      ['options.rawType', 'does not apply to Bool tags'],
    ]);
  });

  it('turns problems into JSON pointers and messages that name the option', () => {
    expect(
      asConnectionProblems([
        ['port', 'must be an integer between 1 and 65535, got 0'],
        ['a/b~c', 'is required'],
      ]),
    ).toEqual([
      ['/port', "'port' must be an integer between 1 and 65535, got 0"],
      ['/a~1b~0c', "'a/b~c' is required"],
    ]);
  });
});
