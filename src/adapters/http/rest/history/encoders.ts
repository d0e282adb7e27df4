import type { ItemError } from '../../../../domain/problems.js';
import type { BucketItem, RawItem } from '../../../../runtime/history-query.js';
import type { HistoryItems, HistorySink, HistoryTail } from '../../../../services/history-service.js';
import { csvLine } from '../../shared/csv.js';

/** Where encoded text goes; a returned promise means "wait until the client has taken it". */
export type Write = (text: string) => Promise<void> | undefined | void;

/**
 * The JSON of GET /tags/{name}/history (`{items, next}` / `{items, boundingValues}`) or, with `many`, of
 * POST /history/query (`{items: [{name, items, next} | {name, error}]}`), written as the service reads.
 */
export class JsonHistorySink implements HistorySink {
  private tags = 0;
  private itemsInTag = 0;

  constructor(
    private readonly write: Write,
    private readonly many: boolean,
    private readonly onBegin: () => void,
  ) {}

  async begin(): Promise<void> {
    this.onBegin();
    await this.write('{"items":[');
  }

  async tag(name: string): Promise<void> {
    await this.write(`${this.tags++ === 0 ? '' : ','}{"name":${JSON.stringify(name)},"items":[`);
    this.itemsInTag = 0;
  }

  async items(items: HistoryItems): Promise<void> {
    if (items.length === 0) return;
    const text = JSON.stringify(items);
    // The array's brackets come from begin/tag and end; consecutive chunks join with a comma.
    await this.write((this.itemsInTag === 0 ? '' : ',') + text.slice(1, -1));
    this.itemsInTag += items.length;
  }

  async end(tail: HistoryTail): Promise<void> {
    let text = ']';
    if (tail.next !== undefined) text += `,"next":${JSON.stringify(tail.next)}`;
    if (tail.boundingValues !== undefined) text += `,"boundingValues":${JSON.stringify(tail.boundingValues)}`;
    await this.write(text + '}');
  }

  async failed(name: string, error: ItemError): Promise<void> {
    await this.write(`${this.tags++ === 0 ? '' : ','}${JSON.stringify({ name, error: { code: error.code, message: error.message } })}`);
  }

  /** Closes the many-tag envelope. */
  async finish(): Promise<void> {
    if (this.many) await this.write(']}');
  }
}

const RAW_FIELDS = ['timestamp', 'value', 'quality', 'qualityCode'] as const;
const BUCKET_FIELDS = ['timestamp', 'value', 'count'] as const;

/**
 * RFC 4180 CSV with a header row of the JSON field names; with `many` the tag name is the first column. Failing
 * tags never reach it (the service fails the whole request first). `next` is the last raw page's cursor.
 */
export class CsvHistorySink implements HistorySink {
  next: string | null = null;
  private name: string | undefined;
  private aggregated = false;

  constructor(
    private readonly write: Write,
    private readonly many: boolean,
    private readonly onBegin: () => void,
  ) {}

  async begin(shape: { aggregated: boolean }): Promise<void> {
    this.aggregated = shape.aggregated;
    this.onBegin();
    await this.write(csvLine([...(this.many ? ['name'] : []), ...(shape.aggregated ? BUCKET_FIELDS : RAW_FIELDS)]));
  }

  tag(name: string): void {
    this.name = name;
  }

  async items(items: HistoryItems): Promise<void> {
    let text = '';
    const prefix = this.many ? [this.name] : [];
    if (this.aggregated) for (const i of items as readonly BucketItem[]) text += csvLine([...prefix, i.timestamp, i.value, i.count]);
    else for (const i of items as readonly RawItem[]) text += csvLine([...prefix, i.timestamp, i.value, i.quality, i.qualityCode]);
    await this.write(text);
  }

  end(tail: HistoryTail): void {
    if (tail.next) this.next = tail.next;
  }

  failed(): void {
    throw new Error('a CSV history answer has no room for a failed tag');
  }
}
