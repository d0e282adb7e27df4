/**
 * A Modbus TCP server in its own process for the polling benchmark, so that the driver's CPU time is not
 * mixed with the server's. Reports FC3 requests served when asked over IPC.
 */
import modbusSerial from 'modbus-serial';

const port = Number(process.argv[2]);
const holding = new Uint16Array(65536);
let requests = 0;
const server = new modbusSerial.ServerTCP(
  {
    getHoldingRegister: (a: number) => {
      requests++;
      return holding[a]!;
    },
    getMultipleHoldingRegisters: (a: number, n: number) => {
      requests++;
      // Values move every request so each poll publishes real changes.
      for (let i = 0; i < n; i++) holding[a + i] = (holding[a + i]! + 1) & 0xffff;
      return Array.from(holding.subarray(a, a + n));
    },
  },
  { host: '127.0.0.1', port },
);
server.on('socketError', () => undefined);
server.on('initialized', () => process.send?.({ ready: true }));
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'count') process.send?.({ requests });
  if (m.cmd === 'stop') server.close(() => process.exit(0));
});
