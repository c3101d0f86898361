import { adminApiSchema } from '../admin-api/index.js';
import {
  apiServerSchema,
  BASE_NODE_SCHEMAS,
  type NodeConfigOf,
  nodeSchema,
  optional,
  withDefault,
} from '../config/index.js';
import { ledgerApiSchema } from '../ledger-api/index.js';
import { jsonApiSchema } from '../ledger-api/json/index.js';
import { mediatorNodeSchema } from '../mediator/index.js';
import { participantSectionSchema } from '../participant/index.js';
import { sequencerNodeSchema } from '../sequencer/index.js';

/**
 * The config schemas of the nodes a daemon runs: a sequencer node needs its admin and public API sections, a
 * mediator node its admin API and its sequencer connection, a participant its admin API (it connects to
 * synchronizers through it: weft admin participant connect), its `participant` section and, for applications,
 * its `ledger-api` and `json-api` (each served only when configured; the JSON API authenticates with the
 * `ledger-api` section's auth-services, so it needs that section).
 */
export const DAEMON_SCHEMAS = {
  ...BASE_NODE_SCHEMAS,
  sequencer: sequencerNodeSchema.extend({ 'admin-api': adminApiSchema, 'public-api': apiServerSchema }),
  mediator: mediatorNodeSchema.extend({ 'admin-api': adminApiSchema }),
  participant: nodeSchema.extend({
    'admin-api': adminApiSchema,
    'ledger-api': optional(ledgerApiSchema),
    'json-api': optional(jsonApiSchema),
    participant: withDefault(participantSectionSchema, {}),
  }),
};

export type DaemonNodeConfig = NodeConfigOf<typeof DAEMON_SCHEMAS>;
export type SequencerDaemonConfig = Extract<DaemonNodeConfig, { kind: 'sequencer' }>;
export type MediatorDaemonConfig = Extract<DaemonNodeConfig, { kind: 'mediator' }>;
export type ParticipantDaemonConfig = Extract<DaemonNodeConfig, { kind: 'participant' }>;
