// The parts of node-snap7's S7Server the tests use (the package ships no types).
declare module 'node-snap7' {
  export class S7Server {
    readonly LocalPort: number;
    readonly srvAreaDB: number;
    readonly srvAreaMK: number;
    readonly srvAreaPE: number;
    readonly srvAreaPA: number;
    SetParam(param: number, value: number): boolean;
    RegisterArea(area: number, index: number, buffer: Buffer): boolean;
    RegisterArea(area: number, buffer: Buffer): boolean;
    SetArea(area: number, index: number, buffer: Buffer): boolean;
    SetArea(area: number, buffer: Buffer): boolean;
    GetArea(area: number, index?: number): Buffer;
    StartTo(address: string, cb: (err: unknown) => void): void;
    Stop(): boolean;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
