import { isWeftError, WeftError } from '../errors/index.js';
import type { ParsedEndpoint } from '../grpc/index.js';
import {
  ChannelStream,
  type EventStream,
  type MemberToken,
  PublicApiChannel,
  type SequencerChannel,
  type SequencerDialer,
  SequencerErrors,
  type SequencerPublicApi,
  type StreamLink,
} from '../sequencer/index.js';
import { type ManualClock, sleep } from '../time/index.js';
import type { SimRandom } from './random.js';
import type { Trace } from './trace.js';

export interface NetworkSettings {
  /** Each call, response and stream message takes 0..maxDelayMs of simulated time, drawn from the seed. */
  readonly maxDelayMs: number;
}

/**
 * The simulation's network: nodes reach the sequencer's {@link SequencerPublicApi} in this process instead of over
 * gRPC, through the same client code ({@link SequencerDialer}). Every call and response and every stream message
 * takes a seeded delay: independent calls overtake each other, a stream stays in order (as over HTTP/2). A node's
 * links can be cut, which fails its calls and streams in flight as a broken connection would.
 */
export class SimulatedNetwork {
  readonly #apis = new Map<string, SequencerPublicApi>();
  readonly #channels = new Set<SimulatedChannel>();
  /** Calls and messages so far: the simulation's measure of progress. */
  activity = 0;

  constructor(
    readonly clock: ManualClock,
    readonly random: SimRandom,
    readonly trace: Trace,
    readonly settings: NetworkSettings,
  ) {}

  /** Serves `api` at `url` (a sequencer node started). */
  serve(url: string, api: SequencerPublicApi): void {
    this.#apis.set(url, api);
  }

  api(url: string): SequencerPublicApi | undefined {
    return this.#apis.get(url);
  }

  /** How node `node` opens channels. */
  dialer(node: string): SequencerDialer {
    return (endpoint) => {
      const channel = new SimulatedChannel(this, node, endpoint);
      this.#channels.add(channel);
      return channel;
    };
  }

  /** Breaks every connection of `node`: its calls in flight fail and its streams end with an error. */
  cut(node: string): void {
    this.trace.add(`network cut ${node}`);
    for (const channel of this.#channels) if (channel.node === node) channel.cut();
  }

  closed(channel: SimulatedChannel): void {
    this.#channels.delete(channel);
  }

  delay(): Promise<void> {
    this.activity++;
    return sleep(this.clock, this.random.int(this.settings.maxDelayMs + 1));
  }
}

function unreachable(endpoint: ParsedEndpoint, why: string): WeftError {
  return new WeftError(SequencerErrors.SEQUENCER_CONNECTION_FAILED, `${endpoint.url}: ${why}`, {
    endpoint: endpoint.url,
  });
}

class SimulatedChannel extends PublicApiChannel {
  readonly #streams = new Set<ChannelStream>();
  /** Bumped by a cut: calls that started before it fail. */
  #generation = 0;
  #closed = false;

  constructor(
    readonly network: SimulatedNetwork,
    readonly node: string,
    readonly endpoint: ParsedEndpoint,
  ) {
    super();
  }

  subscribe(
    request: Parameters<SequencerChannel['subscribe']>[0],
    auth: MemberToken | undefined,
  ): EventStream {
    const stream = new ChannelStream(simulatedLink(this.network), () => this.#streams.delete(stream));
    this.#streams.add(stream);
    const generation = this.#generation;
    void (async () => {
      await this.network.delay();
      const api = this.network.api(this.endpoint.url);
      if (!api || this.#closed || generation !== this.#generation) {
        stream.fail(unreachable(this.endpoint, 'connection refused'));
        return;
      }
      try {
        await api.subscribe(
          structuredClone(request),
          api.caller(auth && structuredClone(auth)),
          (response, signal) => stream.push(structuredClone(response), signal),
          () => stream.start(),
          stream.cancelled,
        );
        stream.finish();
      } catch (e) {
        stream.fail(e);
      }
    })();
    return stream;
  }

  error(e: unknown): WeftError {
    if (isWeftError(e)) return e;
    return unreachable(this.endpoint, e instanceof Error ? e.message : String(e));
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#streams) s.cancel();
    this.network.closed(this);
  }

  cut(): void {
    this.#generation++;
    for (const s of this.#streams) s.cut(unreachable(this.endpoint, 'connection reset'));
  }

  /** A unary call: request and response each cross the network (copied, as serialisation would). */
  protected async call<T>(fn: (api: SequencerPublicApi) => Promise<T>): Promise<T> {
    const generation = this.#generation;
    const broken = () => this.#closed || generation !== this.#generation;
    await this.network.delay();
    const api = this.network.api(this.endpoint.url);
    if (!api || broken()) throw unreachable(this.endpoint, 'connection refused');
    let result: T;
    try {
      result = structuredClone(await fn(api));
    } catch (e) {
      await this.network.delay();
      if (broken()) throw unreachable(this.endpoint, 'connection reset');
      throw e;
    }
    await this.network.delay();
    if (broken()) throw unreachable(this.endpoint, 'connection reset');
    return result;
  }
}

/**
 * How a simulated stream's messages cross: each after a seeded delay, never before an earlier one (a stream stays
 * in order, as over HTTP/2).
 */
function simulatedLink(network: SimulatedNetwork): StreamLink {
  /** When the last message is due (µs). */
  let lastDue = 0n;
  return {
    carry(arrived) {
      const clock = network.clock;
      const due = clock.now() + BigInt(network.random.int(network.settings.maxDelayMs + 1)) * 1000n;
      lastDue = due > lastDue ? due : lastDue;
      network.activity++;
      clock.schedule(Number(lastDue - clock.now()) / 1000, arrived);
    },
    delivered() {
      network.activity++;
    },
  };
}
