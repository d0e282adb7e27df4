import { TagwayError } from '../../domain/problems.js';
import { Quality } from '../../domain/quality.js';
import type { TagValue } from '../../domain/tag-types.js';
import { Backoff } from '../backoff.js';
import type { ConnectionStats, Driver, DriverHost, DriverTag } from '../driver.js';
import { engValueToRaw, rawToTagValue } from '../shared/scaling.js';
import { ConnectionSupervisor, PollCycle, errorMessage } from '../shared/supervisor.js';
import { formatModbusAddress, isRegisterArea } from './address.js';
import { decodeNumber, decodeString, encodeNumber, encodeString, numericValue, stringProblem } from './codec.js';
import type { ModbusBinding, ModbusConnectionOptions } from './config.js';
import { planReads, type PlanItem, type ReadRequest } from './plan.js';
import { ModbusException, ModbusSession, type Client } from './session.js';

interface Item extends PlanItem {
  readonly tag: DriverTag;
  readonly b: ModbusBinding;
}

interface Group {
  readonly pollMs: number;
  requests: ReadRequest<Item>[];
  cycle: PollCycle | undefined;
}

export interface ModbusStats extends ConnectionStats {
  /** Poll cycles skipped because the previous one was still running (a slow device). */
  skippedCycles: number;
  /** Read requests one round over every polling group takes. */
  requestsPerCycle: number;
}

/** The quality a failed read gives its tags: the device's own answer says more than a timeout. */
function qualityFor(err: unknown): number {
  if (err instanceof ModbusException) {
    if (err.modbusCode <= 3) return Quality.BAD_CONFIGURATION_ERROR;
    if (err.modbusCode === 4) return Quality.BAD_DEVICE_FAILURE;
  }
  return Quality.BAD_NO_COMMUNICATION;
}

export class ModbusTcpDriver implements Driver {
  readonly publishesWrites = false;
  private readonly items = new Map<number, Item>();
  private readonly groups: Group[] = [];
  private readonly supervisor: ConnectionSupervisor<ModbusSession>;
  private reads = 0;
  private writes = 0;
  private errors = 0;
  private degraded = false;

  constructor(
    private readonly name: string,
    private readonly opts: ModbusConnectionOptions,
    bindings: ReadonlyArray<{ tag: DriverTag; binding: ModbusBinding }>,
    private readonly host: DriverHost,
  ) {
    const byCycle = new Map<number, Item[]>();
    for (const { tag, binding: b } of bindings) {
      const item: Item = { tag, b, area: b.address.area, unitId: b.unitId, start: b.address.offset, count: b.count };
      this.items.set(tag.index, item);
      const list = byCycle.get(b.pollMs) ?? [];
      list.push(item);
      byCycle.set(b.pollMs, list);
    }
    for (const [pollMs, list] of [...byCycle].sort((a, b) => a[0] - b[0])) {
      this.groups.push({ pollMs, requests: planReads(list, opts.limits), cycle: undefined });
    }
    this.supervisor = new ConnectionSupervisor(
      host,
      bindings.map((b) => b.tag),
      new Backoff(opts.reconnectMinMs, opts.reconnectMaxMs),
      {
        open: (signal) => ModbusSession.open(opts.host, opts.port, opts.timeoutMs, host.clock, signal),
        close: (s) => s.close(),
        up: (s) => this.up(s),
        down: () => this.down(),
      },
    );
  }

  async start(): Promise<void> {
    this.supervisor.start();
  }

  async stop(): Promise<void> {
    await this.supervisor.stop();
  }

  stats(): ModbusStats {
    let skipped = 0,
      requests = 0;
    for (const g of this.groups) {
      skipped += g.cycle?.skipped ?? 0;
      requests += g.requests.length;
    }
    return {
      reads: this.reads,
      writes: this.writes,
      errors: this.errors + this.supervisor.failures,
      rttMs: this.supervisor.session?.lastRttMs,
      skippedCycles: skipped,
      requestsPerCycle: requests,
    };
  }

  private up(session: ModbusSession): void {
    this.degraded = false;
    session.onClose = (reason) => this.supervisor.lost(session, reason);
    for (const g of this.groups) {
      g.cycle = new PollCycle(this.host.clock, g.pollMs, () => this.poll(g, session));
      g.cycle.start();
    }
  }

  private down(): void {
    for (const g of this.groups) g.cycle?.stop();
  }

  private async poll(group: Group, session: ModbusSession): Promise<void> {
    for (let i = 0; i < group.requests.length; i++) {
      if (session.closed || this.supervisor.session !== session) return;
      const req = group.requests[i]!;
      try {
        const reply = await session.exec(
          `${formatModbusAddress({ area: req.area, offset: req.start })}+${req.count}`,
          this.opts.timeoutMs,
          (c) => read(c, req),
        );
        if (session.closed) return;
        this.reads++;
        if (this.degraded) {
          this.degraded = false;
          this.host.state('CONNECTED');
        }
        this.apply(req, reply);
      } catch (err) {
        // A closed connection is the supervisor's business: it has already marked every tag NOT_CONNECTED.
        if (session.closed) return;
        this.errors++;
        if (err instanceof ModbusException && err.modbusCode === 2 && req.items.length > 1) {
          // Merging across a gap read a register the device does not have. Read these tags one by one from
          // now on so the good ones keep working, and retry at once.
          group.requests.splice(
            i,
            1,
            ...req.items.map((it) => ({ area: it.area, unitId: it.unitId, start: it.start, count: it.count, items: [it] })),
          );
          i--;
          continue;
        }
        const q = qualityFor(err);
        const now = this.host.clock.now();
        for (const it of req.items) this.host.setQuality(it.tag.index, q, now);
        if (q === Quality.BAD_NO_COMMUNICATION && !this.degraded) {
          this.degraded = true;
          this.host.state('ERROR', errorMessage(err));
        }
      }
    }
  }

  private apply(req: ReadRequest<Item>, reply: { data: boolean[] } | { buffer: Buffer }): void {
    const now = this.host.clock.now();
    for (const it of req.items) {
      const rel = it.start - req.start;
      const { b, tag } = it;
      let value: TagValue | undefined;
      if (!isRegisterArea(req.area)) {
        value = (reply as { data: boolean[] }).data[rel] === true;
      } else {
        const at = rel * 2;
        const buf = (reply as { buffer: Buffer }).buffer;
        if (b.encoding === 'Bool') {
          const word = buf.readUInt16BE(at);
          value = b.address.bit === undefined ? word !== 0 : ((word >> b.address.bit) & 1) === 1;
        } else if (b.encoding === 'String') {
          value = decodeString(buf, at, b.lengthBytes, b.byteOrder);
        } else {
          const raw = decodeNumber(buf, at, b.encoding, b);
          // NaN or infinity from a float register is no usable value; a reading that does not fit the tag's
          // type (after scaling) points at the configuration.
          if (typeof raw === 'number' && !Number.isFinite(raw)) {
            this.host.setQuality(tag.index, Quality.BAD_SENSOR_FAILURE, now);
            continue;
          }
          value = rawToTagValue(raw, tag.def.type, b.scaling);
          if (value === undefined) {
            this.host.setQuality(tag.index, Quality.BAD_CONFIGURATION_ERROR, now);
            continue;
          }
        }
      }
      this.host.update(tag.index, value, Quality.GOOD, now);
    }
  }

  async write(tag: DriverTag, value: TagValue): Promise<void> {
    const it = this.items.get(tag.index);
    if (!it) throw new TagwayError('INVALID_STATE', `Tag '${tag.def.name}' is not served by connection '${this.name}'`);
    const session = this.supervisor.session;
    if (!session || session.closed) throw new TagwayError('DEVICE_UNAVAILABLE', `Connection '${this.name}' is not connected to its device`);
    const { b } = it;
    const offset = b.address.offset;
    const label = `the write of ${tag.def.name} (${formatModbusAddress(b.address)})`;
    let run: (c: Client) => Promise<unknown>;
    if (b.address.area === 'coil') {
      const on = value === true;
      run = b.writeMultiple ? (c) => c.writeCoils(offset, [on]) : (c) => c.writeCoil(offset, on);
    } else if (!isRegisterArea(b.address.area) || b.address.area === 'input') {
      throw new TagwayError('READ_ONLY', `Tag '${tag.def.name}': ${b.address.area} addresses cannot be written`);
    } else if (b.encoding === 'Bool' && b.address.bit !== undefined) {
      const mask = 1 << b.address.bit;
      const on = value === true;
      // Read-modify-write of one register, done as one exclusive queue entry so no poll or other write of
      // this connection slips in between. (Another master writing the same register can still race: Modbus
      // has no lock; FC22 mask write would be atomic but is not widely implemented.)
      run = async (c) => {
        c.setID(b.unitId);
        const cur = (await c.readHoldingRegisters(offset, 1)).buffer.readUInt16BE(0);
        const next = on ? cur | mask : cur & ~mask & 0xffff;
        return b.writeMultiple ? c.writeRegisters(offset, [next]) : c.writeRegister(offset, next);
      };
    } else {
      let regs: number[];
      if (b.encoding === 'Bool') regs = [value === true ? 1 : 0];
      else if (b.encoding === 'String') {
        const problem = stringProblem(String(value), b.lengthBytes);
        if (problem) throw new TagwayError('OUT_OF_RANGE', `Tag '${tag.def.name}': ${problem}`);
        regs = encodeString(String(value), b.lengthBytes, b.byteOrder);
      } else {
        const raw = engValueToRaw(tag.def.name, value, b.encoding, b.scaling);
        regs = encodeNumber(numericValue(raw), b.encoding, b);
      }
      run = regs.length === 1 && !b.writeMultiple ? (c) => c.writeRegister(offset, regs[0]!) : (c) => c.writeRegisters(offset, regs);
    }
    try {
      await session.exec(label, this.opts.timeoutMs, (c) => {
        c.setID(b.unitId);
        return run(c);
      });
      this.writes++;
    } catch (err) {
      this.errors++;
      throw err;
    }
  }
}

function read(c: Client, req: ReadRequest<Item>): Promise<{ data: boolean[] } | { buffer: Buffer }> {
  c.setID(req.unitId);
  switch (req.area) {
    case 'coil':
      return c.readCoils(req.start, req.count);
    case 'discrete':
      return c.readDiscreteInputs(req.start, req.count);
    case 'holding':
      return c.readHoldingRegisters(req.start, req.count);
    case 'input':
      return c.readInputRegisters(req.start, req.count);
  }
}
