/**
 * What the console knows of a network: for each node its name, kind and how to reach it (the Admin API; a
 * participant's Ledger API; a sequencer's public API, which participants connect to). Remote nodes come from a
 * config's `remote-*` sections, local ones from the nodes the same process runs (`weft run`, `--sandbox`).
 */

export type ConsoleNodeKind = 'participant' | 'sequencer' | 'mediator';

/** An endpoint and what a client needs to trust and authenticate to it. */
export interface ConsoleEndpoint {
  /** http://host:port or https://host:port. */
  readonly url: string;
  /** PEM root certificate(s) of a custom root CA (else the system's public CAs). */
  readonly ca?: string;
  /** PEM client certificate and key, for a server that authenticates clients by certificate. */
  readonly clientCert?: { readonly certChain: string; readonly privateKey: string };
  /** Bearer token (Ledger API). */
  readonly token?: string;
}

export interface ConsoleNode {
  readonly name: string;
  readonly kind: ConsoleNodeKind;
  readonly admin: ConsoleEndpoint;
  /** A participant's Ledger API. */
  readonly ledgerApi?: ConsoleEndpoint;
  /** A sequencer's public API: where participants and mediators connect. */
  readonly publicApi?: ConsoleEndpoint;
  /** Whether this process runs the node (nodes.local) or reaches it over the network (nodes.remote). */
  readonly local: boolean;
}

/** The nodes this process runs, as `nodes.local.start()` / `stop()` control them (a narrow view of `weft run`). */
export interface LocalNodes {
  /** Starts the nodes that are not running (idempotent). */
  start(): Promise<void>;
  /** Stops the running nodes. */
  stop(): Promise<void>;
}

export interface ConsoleNetwork {
  readonly nodes: readonly ConsoleNode[];
  readonly local?: LocalNodes;
}
