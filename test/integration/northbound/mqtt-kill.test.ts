import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import spPayload from 'sparkplug-payload';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, ROOT } from '../../helpers/cli.js';
import { tempDir } from '../drivers/support.js';
import { brokerYaml, mosquitto, subscriber, waitUntil } from './mqtt-support.js';

const sparkplug = spPayload.get('spBv1.0')!;
let broker: Awaited<ReturnType<typeof mosquitto>>;
let dir: { path: string; remove(): void };
let run: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  broker = await mosquitto();
  dir = tempDir('tagway-nb-kill-');
  run = buildCli(join(dir.path, 'build'));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await broker?.stop();
  broker?.dir.remove();
  dir?.remove();
});

/** A real Tagway process publishing to the test broker. */
function tagway(name: string, mqttSection: string): ChildProcess {
  const project = join(dir.path, `${name}.yaml`);
  writeFileSync(
    project,
    `name: ${name}
connections:
  - { name: internal, driver: internal }
tags:
  - { name: Line1.Speed, type: Float64, connection: internal, initial: 1.5, group: Line1 }
northbound:
  mqtt:
    ${brokerYaml(broker.url)}
    ${mqttSection}
`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TAGWAY_')) delete env[k];
  const proc = spawn(
    process.execPath,
    [run, 'start', '--project', project, '--data-dir', join(dir.path, `${name}-data`), '--port', '0', '--host', '127.0.0.1', '--http'],
    { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'ignore'] },
  );
  children.push(proc);
  return proc;
}

async function kill9(proc: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGKILL');
  await exited;
}

describe('northbound MQTT when Tagway dies (kill -9)', () => {
  // Two Tagway processes start on two cores shared with the rest of the suite: the bound is generous.
  it('the broker publishes the Last Will: $status offline (json) and NDEATH with the birth bdSeq (Sparkplug B)', {
    timeout: 120_000,
  }, async () => {
    const sub = await subscriber(broker.url, ['kill/$status', 'spBv1.0/Killed/+/edge-1', 'spBv1.0/Killed/+/edge-1/+']);
    const json = tagway('json', 'topicPrefix: kill');
    const spb = tagway('spb', 'format: sparkplugB\n    groupId: Killed\n    edgeNodeId: edge-1');
    await waitUntil(() => sub.messages.some((m) => m.topic === 'kill/$status' && m.payload.toString() === 'online'), 'json online', 60_000);
    await waitUntil(() => sub.messages.find((m) => m.topic === 'spBv1.0/Killed/NBIRTH/edge-1'), 'NBIRTH', 60_000);
    await waitUntil(() => sub.messages.find((m) => m.topic === 'spBv1.0/Killed/DBIRTH/edge-1/Line1'), 'DBIRTH', 60_000);
    const bdSeq = (p: Buffer) =>
      Number(
        sparkplug
          .decodePayload(p)
          .metrics!.find((m) => m.name === 'bdSeq')!
          .value!.toString(),
      );
    const born = bdSeq(sub.messages.filter((m) => m.topic === 'spBv1.0/Killed/NBIRTH/edge-1').at(-1)!.payload);

    // Only what follows the kill counts (an attempt that failed at start may have left a death of its own).
    const killedAt = sub.messages.length;
    await Promise.all([kill9(json), kill9(spb)]);
    const offline = await waitUntil(
      () => sub.messages.slice(killedAt).find((m) => m.topic === 'kill/$status' && m.payload.toString() === 'offline'),
      'LWT',
    );
    expect(offline.topic).toBe('kill/$status');
    const ndeath = await waitUntil(() => sub.messages.slice(killedAt).find((m) => m.topic === 'spBv1.0/Killed/NDEATH/edge-1'), 'NDEATH');
    expect(bdSeq(ndeath.payload)).toBe(born);
    // The status is retained: a subscriber that comes later learns that Tagway is gone.
    const later = await subscriber(broker.url, ['kill/$status']);
    const retained = await waitUntil(() => later.messages.find((m) => m.topic === 'kill/$status'), 'the retained status');
    expect(retained.payload.toString()).toBe('offline');
    await later.client.endAsync();
    await sub.client.endAsync();
  });
});
