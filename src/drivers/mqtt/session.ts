import type { MqttClient } from 'mqtt';

/** What every MQTT session of Tagway keeps (the driver's and the northbound publisher's add their own state). */
export interface MqttSessionBase {
  client: MqttClient;
  /** The last error the client reported, named when the connection closes. */
  lastError: string | undefined;
  /** Set once the session is gone, so that late messages of a dead client are ignored. */
  dead: boolean;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Opens one MQTT session for a ConnectionSupervisor: resolves once the broker accepted the connection and `ready`
 * (the subscriptions) succeeded; rejects on a refusal, a close before that, no CONNACK in time, or the abort of the
 * attempt, and then ends the client. A close after it resolved is reported to `lost`. `connect` runs inside, so a
 * client that cannot even be built (an unreadable TLS file) is a failed attempt like any other.
 */
export function openMqttSession<S extends MqttSessionBase>(opts: {
  connect: () => S;
  signal: AbortSignal;
  timeoutMs: number;
  ready: (session: S) => Promise<void>;
  onMessage: (session: S, topic: string, payload: Buffer) => void;
  lost: (session: S, reason: string) => void;
  end: (session: S) => Promise<void>;
}): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    const session = opts.connect();
    const { client } = session;
    let settled = false;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      opts.signal.removeEventListener('abort', onAbort);
      if (err === undefined) {
        resolve(session);
        return;
      }
      session.dead = true;
      void opts.end(session);
      reject(err);
    };
    const onAbort = (): void => settle(new Error('stopped'));
    opts.signal.addEventListener('abort', onAbort);
    // mqtt.js's connectTimeout covers CONNECT → CONNACK; this guard also covers a TCP connect that hangs.
    const guard = setTimeout(() => settle(new Error(`no CONNACK within ${opts.timeoutMs} ms`)), opts.timeoutMs + 500);
    client.on('error', (err) => {
      session.lastError = errorText(err);
    });
    client.on('close', () => {
      const reason = session.lastError ?? 'connection closed';
      if (!settled) settle(new Error(reason));
      else opts.lost(session, reason);
    });
    client.on('message', (topic, payload) => {
      if (!session.dead) opts.onMessage(session, topic, payload);
    });
    client.on('connect', () => {
      opts.ready(session).then(
        () => settle(),
        (err: unknown) => settle(new Error(`subscribe failed: ${errorText(err)}`)),
      );
    });
  });
}
