import modbusSerial from 'modbus-serial';

/**
 * A real Modbus TCP server (modbus-serial's ServerTCP) over plain arrays the test can inspect.
 * Holding registers 600…609 do not exist (the device answers "illegal data address"), like the holes real
 * devices have between blocks.
 */
export class ModbusPeer {
  readonly holding = new Uint16Array(20_000);
  readonly input = new Uint16Array(1000);
  readonly coils: boolean[] = new Array(2000).fill(false);
  readonly discrete: boolean[] = new Array(2000).fill(false);
  /** FC3/FC4 requests served, to count requests per cycle. */
  registerReads = 0;
  /** When set, multi-register reads answer after this delay: a slow device. */
  delayMs = 0;
  private inFlight = 0;
  /** Most multi-register reads the server was serving at once. */
  maxInFlight = 0;
  private server: InstanceType<typeof modbusSerial.ServerTCP> | undefined;

  constructor(readonly port: number) {}

  private static illegal(): never {
    throw Object.assign(new Error('illegal data address'), { modbusErrorCode: 2 });
  }

  private checkHolding(addr: number, length: number): void {
    if (addr + length > this.holding.length) ModbusPeer.illegal();
    if (addr < 610 && addr + length > 600) ModbusPeer.illegal();
  }

  async start(): Promise<void> {
    const vector = {
      getCoil: (a: number) => this.coils[a] ?? ModbusPeer.illegal(),
      getDiscreteInput: (a: number) => this.discrete[a] ?? ModbusPeer.illegal(),
      getHoldingRegister: (a: number) => {
        this.checkHolding(a, 1);
        this.registerReads++;
        return this.holding[a]!;
      },
      // The callback form (four parameters) lets the server answer late; ServerTCP does not await promises here.
      getMultipleHoldingRegisters: (a: number, n: number, _unit: number, cb: (err: Error | null, v: number[]) => void) => {
        try {
          this.checkHolding(a, n);
        } catch (err) {
          cb(err as Error, []);
          return;
        }
        this.registerReads++;
        const values = Array.from(this.holding.subarray(a, a + n));
        if (this.delayMs === 0) {
          cb(null, values);
          return;
        }
        this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
        setTimeout(() => {
          this.inFlight--;
          cb(null, values);
        }, this.delayMs);
      },
      getInputRegister: (a: number) => {
        if (a >= this.input.length) ModbusPeer.illegal();
        this.registerReads++;
        return this.input[a]!;
      },
      getMultipleInputRegisters: (a: number, n: number) => {
        if (a + n > this.input.length) ModbusPeer.illegal();
        this.registerReads++;
        return Array.from(this.input.subarray(a, a + n));
      },
      setCoil: (a: number, v: boolean) => {
        if (a >= this.coils.length) ModbusPeer.illegal();
        this.coils[a] = v;
      },
      setRegister: (a: number, v: number) => {
        this.checkHolding(a, 1);
        this.holding[a] = v;
      },
    };
    const server = new modbusSerial.ServerTCP(vector, { host: '127.0.0.1', port: this.port, unitID: 0 });
    // Errors on a client socket (the driver hanging up) are part of the tests, not failures.
    server.on('socketError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.on('initialized', () => resolve());
      server.on('serverError', (e) => reject(e ?? new Error('server error')));
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** The bytes of `n` holding registers from `at`, as on the wire. */
  bytes(at: number, n: number): Buffer {
    const b = Buffer.alloc(n * 2);
    for (let i = 0; i < n; i++) b.writeUInt16BE(this.holding[at + i]!, i * 2);
    return b;
  }

  setBytes(at: number, b: Buffer): void {
    for (let i = 0; i < b.length / 2; i++) this.holding[at + i] = b.readUInt16BE(i * 2);
  }
}
