import { beforeAll, describe, expect, it } from 'vitest';
import { brokerAddress } from '../../../src/northbound/mqtt/index.js';
import { BoundedQueue } from '../../../src/northbound/mqtt/queue.js';
import { deviceId, tagTopic } from '../../../src/northbound/mqtt/topics.js';
import { parseSetPayload, MAX_WRITE_PAYLOAD_BYTES } from '../../../src/northbound/mqtt/writes.js';
import { parseProject } from '../../../src/project/load.js';
import { registerBuiltIns } from '../../../src/server/built-ins.js';

describe('the store-and-forward queue', () => {
  it('keeps order, drops the oldest when full and counts it', () => {
    const q = new BoundedQueue<number>(3);
    for (let i = 1; i <= 5; i++) q.push(i);
    expect(q.dropped).toBe(2);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([3, 4, 5, undefined]);
  });

  it('puts unacknowledged messages back in front, in order, dropping what does not fit (the oldest)', () => {
    const q = new BoundedQueue<number>(4);
    q.push(10);
    q.push(11);
    q.unshiftAll([7, 8, 9]);
    expect(q.dropped).toBe(1);
    expect(q.size).toBe(4);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([8, 9, 10, 11]);
  });
});

describe('topics', () => {
  it('makes . and / levels and escapes the MQTT wildcards of tag names', () => {
    expect(tagTopic('p', 'Line1.Filler/Speed#2')).toBe('p/Line1/Filler/Speed%232');
    expect(deviceId(undefined)).toBe('Tags');
    expect(deviceId('Hall 1/Line+2')).toBe('Hall 1_Line_2');
  });
});

describe('audit client address', () => {
  it('names the broker without credentials', () => {
    expect(brokerAddress('mqtts://user:secret@broker:8883')).toBe('mqtts://broker:8883');
    expect(brokerAddress('mqtt://10.0.0.5')).toBe('mqtt://10.0.0.5');
  });
});

describe('write payloads', () => {
  it('takes a bare JSON value or {"value"} and refuses the rest with a problem code', () => {
    expect(parseSetPayload(Buffer.from('42'))).toEqual({ ok: true, value: 42 });
    expect(parseSetPayload(Buffer.from('{"value":"x"}'))).toEqual({ ok: true, value: 'x' });
    expect(parseSetPayload(Buffer.from('nope'))).toMatchObject({ ok: false, code: 'VALIDATION_FAILED' });
    expect(parseSetPayload(Buffer.from('{"v":1}'))).toMatchObject({ ok: false, code: 'VALIDATION_FAILED' });
    expect(parseSetPayload(Buffer.alloc(MAX_WRITE_PAYLOAD_BYTES + 1, 0x31))).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
  });
});

describe('northbound.mqtt in the project file', () => {
  beforeAll(() => registerBuiltIns());
  const project = (section: string) =>
    ['name: P', 'connections: [{ name: internal, driver: internal }]', 'tags: []', 'northbound:', '  mqtt:', section, ''].join('\n');
  const problemsOf = (yaml: string) => {
    try {
      parseProject(yaml);
      return [];
    } catch (e) {
      return (e as { problems: Array<{ line: number; path: string; message: string }> }).problems;
    }
  };

  it('accepts a full section', () => {
    expect(
      problemsOf(
        project(
          [
            '    url: mqtts://broker:8883',
            '    username: u',
            '    passwordEnv: MQTT_PASSWORD',
            '    tags: "Line1.**"',
            '    format: sparkplugB',
            '    groupId: G',
            '    edgeNodeId: e1',
            '    qos: 0',
            '    writes: true',
            '    writeAs: bridge',
            '    queueSize: 500',
          ].join('\n'),
        ),
      ),
    ).toEqual([]);
  });

  it('reports each problem with its line: the URL, writes without writeAs, a Sparkplug id with a level, an unknown key', () => {
    const problems = problemsOf(project(['    url: http://broker', '    writes: true', '    edgeNodeId: a/b'].join('\n')));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 6, path: '/northbound/mqtt/url' }),
        expect.objectContaining({ path: '/northbound/mqtt/writeAs' }),
        expect.objectContaining({ line: 8, path: '/northbound/mqtt/edgeNodeId' }),
      ]),
    );
    expect(problemsOf(project('    url: mqtt://b\n    topicprefix: x'))).toEqual([
      expect.objectContaining({ line: 7, path: '/northbound/mqtt/topicprefix' }),
    ]);
  });
});
