// Child process of bench/wincc-unified.bench.ts: opens the WebSocket clients (native /ws or Unified /graphql), so
// their parsing does not run in the server process, and counts the tag values each protocol delivers.
import { WebSocket } from 'ws';

interface Start {
  url: string;
  token: string;
  ca: string;
  clients: number;
  pattern: string;
  protocol: 'tagway' | 'unified';
}

let items = 0;
let measuring = false;

process.on('message', async (msg: { cmd: string } & Partial<Start>) => {
  if (msg.cmd === 'start') {
    const s = msg as Start;
    const sockets: WebSocket[] = [];
    await Promise.all(
      Array.from({ length: s.clients }, async () => {
        const ws =
          s.protocol === 'unified'
            ? new WebSocket(s.url, 'graphql-transport-ws', { ca: s.ca, perMessageDeflate: false })
            : new WebSocket(s.url, { ca: s.ca, headers: { authorization: `Bearer ${s.token}` }, perMessageDeflate: false });
        sockets.push(ws);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        let ready: () => void;
        const subscribed = new Promise<void>((r) => (ready = r));
        ws.on('message', (d: Buffer) => {
          const m = JSON.parse(d.toString()) as { type: string; items?: unknown[] };
          if (m.type === 'connection_ack')
            ws.send(
              JSON.stringify({
                id: '1',
                type: 'subscribe',
                payload: {
                  query: `subscription { tagValues(names: ["${s.pattern}"]) { name value { value timestamp } notificationReason } }`,
                },
              }),
            );
          else if (m.type === 'next' || m.type === 'values') {
            ready();
            if (measuring) items += m.type === 'next' ? 1 : m.items!.length;
          }
        });
        if (s.protocol === 'unified') ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${s.token}` } }));
        else ws.send(JSON.stringify({ type: 'subscribe', id: 's', tags: [s.pattern] }));
        await subscribed;
      }),
    );
    process.send!({ cmd: 'ready' });
    process.on('message', (m: { cmd: string }) => {
      if (m.cmd === 'measure') {
        items = 0;
        measuring = true;
      } else if (m.cmd === 'report') {
        measuring = false;
        process.send!({ cmd: 'report', items });
        for (const ws of sockets) ws.close();
        setTimeout(() => process.exit(0), 200);
      }
    });
  }
});
