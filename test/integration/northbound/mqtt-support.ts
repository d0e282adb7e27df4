import mqttjs, { type MqttClient } from 'mqtt';
import { startMosquitto, type Mosquitto } from '../drivers/mqtt-peers.js';
import { freePort, tempDir } from '../drivers/support.js';

export { waitUntil } from '../../helpers/wait.js';

/** A Debian mosquitto on an ephemeral loopback port, in its own temp dir (the MQTT driver's test peer). */
export async function mosquitto(
  opts: { persistence?: boolean } = {},
): Promise<Mosquitto & { url: string; dir: { path: string; remove(): void }; restart(): Promise<void> }> {
  const dir = tempDir('tagway-nb-mqtt-');
  const port = await freePort();
  let m = await startMosquitto(port, dir.path, opts);
  const handle = {
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
      m = await startMosquitto(port, dir.path, opts);
    },
  };
  return handle;
}

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/**
 * A subscriber that records every message in arrival order. With `session`, a persistent MQTT 5 session under that
 * client id: the broker keeps its subscriptions and queues its QoS 1 messages while it is away.
 */
export async function subscriber(
  url: string,
  topics: string[],
  session?: string,
  messages: Received[] = [],
): Promise<{ client: MqttClient; messages: Received[] }> {
  const client = mqttjs.connect(
    url,
    session === undefined
      ? { protocolVersion: 5, reconnectPeriod: 0 }
      : { protocolVersion: 5, reconnectPeriod: 0, clientId: session, clean: false, properties: { sessionExpiryInterval: 600 } },
  );
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload, retain: packet.retain }));
  if (topics.length > 0) await client.subscribeAsync(topics, { qos: 1 });
  return { client, messages };
}

/** The broker section of a project file for a broker at `url`, reconnecting fast. */
export function brokerYaml(url: string): string {
  return `url: ${url}\n    reconnectMinMs: 100\n    reconnectMaxMs: 500\n    timeoutMs: 2000`;
}
