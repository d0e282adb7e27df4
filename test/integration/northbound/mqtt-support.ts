import mqttjs, { type MqttClient } from 'mqtt';
import { createConnection, createServer, type Socket } from 'node:net';
import { startMosquitto, type Mosquitto } from '../drivers/mqtt-peers.js';
import { freePort, tempDir } from '../drivers/support.js';

export { waitUntil } from '../../helpers/wait.js';

/** A Debian mosquitto on an ephemeral loopback port, in its own temp dir (the MQTT driver's test peer), restartable. */
export async function mosquitto(): Promise<Mosquitto & { url: string; dir: { path: string; remove(): void }; restart(): Promise<void> }> {
  const dir = tempDir('tagway-nb-mqtt-');
  const port = await freePort();
  let m = await startMosquitto(port, dir.path);
  return {
    get port() {
      return m.port;
    },
    get process() {
      return m.process;
    },
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    stop: () => m.stop(),
    restart: async () => {
      m = await startMosquitto(port, dir.path);
    },
  };
}

export interface Gate {
  url: string;
  /** Lets connections through to the broker again. */
  open(): void;
  /** Cuts every connection through the gate and refuses new ones, as an unreachable broker would. */
  close(): void;
  stop(): Promise<void>;
}

/**
 * A TCP relay between Tagway and the broker. Births are not retained and a restarted broker forgets its
 * subscribers, so a test that restarts the broker keeps Tagway's way to it closed until the test's own subscriber
 * is back: then it sees every message Tagway sends after the outage, whatever the scheduling.
 */
export async function gate(brokerPort: number): Promise<Gate> {
  let isOpen = true;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (!isOpen) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: brokerPort });
    sockets.add(client);
    sockets.add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const close = (): void => {
    isOpen = false;
    for (const s of sockets) s.destroy();
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    open: () => {
      isOpen = true;
    },
    close,
    stop: async () => {
      close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/** A subscriber that records every message in arrival order. */
export async function subscriber(url: string, topics: string[]): Promise<{ client: MqttClient; messages: Received[] }> {
  const client = mqttjs.connect(url, { protocolVersion: 5, reconnectPeriod: 0 });
  // Listening from the start: messages can arrive in the same read as the CONNACK.
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload, retain: packet.retain }));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(topics, { qos: 1 });
  return { client, messages };
}

/** The broker section of a project file for a broker at `url`, reconnecting fast (and patient with a loaded machine). */
export function brokerYaml(url: string): string {
  return `url: ${url}\n    reconnectMinMs: 100\n    reconnectMaxMs: 500\n    timeoutMs: 10000`;
}
