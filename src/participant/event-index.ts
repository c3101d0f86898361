import { WireType } from '@protobuf-ts/runtime';
import { CommonErrors, WeftError } from '../errors/index.js';
import { asBuffer } from '../wire/index.js';

/**
 * Reads a stored `IndexedTransaction` (proto/weft/participant/v1/event_index.proto, written by `indexTransaction`)
 * without the generated decoder, for the update streams that read one per transaction: the events' encodings come
 * as views of the stored bytes, and what selects an event (fields 2–5) as its raw bytes, a key under which a
 * reader keeps what it made of them (most events of a ledger share a few sets of parties and templates), decoded
 * by {@link decodeSelector} only when the reader has not met them yet.
 */

/** What selects a pre-encoded event: `IndexedEvent` fields 2–5. */
export interface EventSelector {
  readonly informees: string[];
  readonly stakeholders: string[];
  readonly packageName: string;
  readonly qualifiedName: string;
}

/** One `IndexedEvent` as read: its selector as a span of the index, its encodings as views of it. */
export interface IndexedEventView {
  readonly nodeId: number;
  readonly netChange: boolean;
  readonly kind: 'created' | 'exercised';
  readonly event: Uint8Array;
  readonly archived: Uint8Array;
  /** The bytes of the event's fields 2–5 (and of any field written between them), as a Latin-1 string. */
  readonly selectorKey: string;
  readonly selectorStart: number;
  readonly selectorEnd: number;
}

const EVENTS = 1;
const NODE_ID = 1;
const INFORMEES = 2;
const STAKEHOLDERS = 3;
const PACKAGE_NAME = 4;
const QUALIFIED_NAME = 5;
const NET_CHANGE = 6;
const CREATED = 7;
const EXERCISED = 8;
const ARCHIVED = 9;
const EMPTY: Uint8Array = new Uint8Array(0);

/** The events of a stored index, in their stored order (by node id). */
export function readEventIndex(index: Uint8Array): IndexedEventView[] {
  const buf = asBuffer(index);
  const r = new Cursor(buf, 0, buf.length);
  const events: IndexedEventView[] = [];
  while (r.more()) {
    const tag = r.varint();
    const field = tag >>> 3;
    const type: WireType = tag & 7;
    if (field === EVENTS && type === WireType.LengthDelimited) {
      const length = r.varint();
      events.push(readEvent(buf, r.pos, r.pos + length));
      r.pos += length;
    } else r.skip(type);
  }
  r.done();
  return events;
}

function readEvent(buf: Buffer, start: number, end: number): IndexedEventView {
  const r = new Cursor(buf, start, end);
  let nodeId = 0;
  let netChange = false;
  let kind: 'created' | 'exercised' | undefined;
  let event = EMPTY;
  let archived = EMPTY;
  let selectorStart = -1;
  let selectorEnd = -1;
  while (r.more()) {
    const at = r.pos;
    const tag = r.varint();
    const field = tag >>> 3;
    const type: WireType = tag & 7;
    if (field === NODE_ID && type === WireType.Varint) nodeId = r.varint() | 0;
    else if (field === NET_CHANGE && type === WireType.Varint) netChange = r.varint() !== 0;
    else if (
      (field === CREATED || field === EXERCISED || field === ARCHIVED) &&
      type === WireType.LengthDelimited
    ) {
      const bytes = r.bytes();
      if (field === ARCHIVED) archived = bytes;
      else {
        kind = field === CREATED ? 'created' : 'exercised';
        event = bytes;
      }
    } else {
      r.skip(type);
      if (field >= INFORMEES && field <= QUALIFIED_NAME) {
        if (selectorStart < 0) selectorStart = at;
        selectorEnd = r.pos;
      }
    }
  }
  r.done();
  if (kind === undefined) throw malformed(`event ${nodeId} has no encoding`);
  if (selectorStart < 0) selectorStart = selectorEnd = start;
  return {
    nodeId,
    netChange,
    kind,
    event,
    archived,
    selectorKey: buf.toString('latin1', selectorStart, selectorEnd),
    selectorStart,
    selectorEnd,
  };
}

/** The selector of an event read by {@link readEventIndex} from `index`. */
export function decodeSelector(index: Uint8Array, e: IndexedEventView): EventSelector {
  const buf = asBuffer(index);
  const r = new Cursor(buf, e.selectorStart, e.selectorEnd);
  const selector = {
    informees: [] as string[],
    stakeholders: [] as string[],
    packageName: '',
    qualifiedName: '',
  };
  while (r.more()) {
    const tag = r.varint();
    const field = tag >>> 3;
    const type: WireType = tag & 7;
    if (type !== WireType.LengthDelimited || field < INFORMEES || field > QUALIFIED_NAME) {
      r.skip(type);
      continue;
    }
    const length = r.varint();
    const s = buf.toString('utf8', r.pos, r.pos + length);
    r.pos += length;
    if (field === INFORMEES) selector.informees.push(s);
    else if (field === STAKEHOLDERS) selector.stakeholders.push(s);
    else if (field === PACKAGE_NAME) selector.packageName = s;
    else selector.qualifiedName = s;
  }
  r.done();
  return selector;
}

const malformed = (what: string) =>
  new WeftError(CommonErrors.INTERNAL, `a stored event index is malformed: ${what}`);

/** A position in `buf[start, end)`; the index is the participant's own, so only bounds are checked. */
class Cursor {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  more(): boolean {
    return this.pos < this.end;
  }

  done(): void {
    if (this.pos !== this.end) throw malformed('a field runs past its message');
  }

  /** A varint of up to 32 bits (node ids, lengths, tags, booleans). */
  varint(): number {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) throw malformed('a varint runs past its message');
      const b = this.buf[this.pos++]!;
      v |= (b & 0x7f) << shift;
      if (b < 0x80) return v >>> 0;
    }
    throw malformed('a varint is longer than 32 bits');
  }

  bytes(): Uint8Array {
    const length = this.varint();
    const start = this.pos;
    this.pos += length;
    if (this.pos > this.end) throw malformed('a field runs past its message');
    return this.buf.subarray(start, this.pos);
  }

  skip(type: WireType): void {
    switch (type) {
      case WireType.Varint:
        while (this.pos < this.end && this.buf[this.pos++]! >= 0x80);
        break;
      case WireType.Bit64:
        this.pos += 8;
        break;
      case WireType.Bit32:
        this.pos += 4;
        break;
      case WireType.LengthDelimited: {
        const length = this.varint();
        this.pos += length;
        break;
      }
      default:
        throw malformed(`wire type ${type}`);
    }
    if (this.pos > this.end) throw malformed('a field runs past its message');
  }
}
