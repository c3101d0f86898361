import { join } from 'node:path';
import { AdminClient } from '../../src/admin-api/index.js';
import {
  type Daemon,
  eventually,
  freePort,
  mediatorConfig,
  startDaemon,
  weftOk,
  writeConfig,
} from '../synchronizer/processes.js';

/** The `ledger-api` section (inside its braces) and any further config lines of a participant daemon. */
export interface ParticipantSections {
  readonly ledgerApi: string;
  readonly more?: string;
}

export interface LedgerApiDaemons {
  readonly sequencer: Daemon;
  readonly mediator: Daemon;
  readonly p1: Daemon;
  readonly p2: Daemon;
  /** participant2's config file, to restart it with. */
  readonly p2Config: string;
}

/** The config file of participant daemon `name` in `dir`, on SQLite, with `sections`. */
export const participantConfig = (dir: string, name: string, s: ParticipantSections) =>
  writeConfig(
    dir,
    name,
    `weft.node {
  name = ${name}
  kind = participant
  storage { type = sqlite, file = "${join(dir, `${name}.db`)}" }
  admin-api.port = 0
  ledger-api { ${s.ledgerApi} }
  ${s.more ?? ''}
  monitoring.http-server.port = 0
  participant.max-backoff-ms = 200
}
`,
  );

/**
 * A synchronizer (a sequencer and a mediator daemon) and two participant daemons connected to it, separate
 * processes on SQLite files in `dir`, each participant serving what its sections configure. Needs `npm run build`.
 */
export async function ledgerApiDaemons(
  dir: string,
  p1: ParticipantSections,
  p2: ParticipantSections,
): Promise<LedgerApiDaemons> {
  const port = await freePort();
  const sequencer = await startDaemon(
    writeConfig(
      dir,
      'sequencer',
      `weft.node {
  name = sequencer
  kind = sequencer
  storage { type = sqlite, file = "${join(dir, 'sequencer.db')}" }
  public-api.port = ${port}
  admin-api.port = 0
  monitoring.http-server.port = 0
}
`,
    ),
    join(dir, 'sequencer.ports'),
  );
  const p2Config = participantConfig(dir, 'participant2', p2);
  const [mediator, d1, d2] = (await Promise.all([
    startDaemon(mediatorConfig(dir, 'mediator', port), join(dir, 'mediator.ports')),
    startDaemon(participantConfig(dir, 'participant1', p1), join(dir, 'p1.ports')),
    startDaemon(p2Config, join(dir, 'p2.ports')),
  ])) as [Daemon, Daemon, Daemon];
  await weftOk([
    'admin',
    '-e',
    sequencer.adminUrl,
    'bootstrap',
    '--name',
    'ledger',
    '--mediator',
    mediator.adminUrl,
  ]);
  const mediatorAdmin = new AdminClient(mediator.adminUrl);
  try {
    await eventually('the mediator to serve', async () => (await mediatorAdmin.status()).ready, 15_000);
  } finally {
    mediatorAdmin.close();
  }
  for (const p of [d1, d2]) {
    await weftOk([
      'admin',
      '-e',
      p.adminUrl,
      'participant',
      'connect',
      '--alias',
      'ledger',
      '--sequencer',
      sequencer.publicUrl,
    ]);
  }
  return { sequencer, mediator, p1: d1, p2: d2, p2Config };
}
