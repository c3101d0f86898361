import type { Counter, Gauge, Histogram } from 'prom-client';
import type { NodeMetrics } from '../observability/index.js';
import type { PhaseTimings } from './updates.js';

const PHASE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The ACS size gauge's counter, by gauge: the gauge is shared by every ParticipantMetrics of one registry. */
const acsCounters = new WeakMap<Gauge, () => Promise<number>>();

/** The participant's metrics (`weft_participant_*`), after Canton's `daml_participant_*`. */
export class ParticipantMetrics {
  readonly submissions: Counter<'result'>;
  readonly requests: Counter<'outcome'>;
  readonly inflight: Gauge;
  readonly phases: Histogram<'phase'>;
  readonly submissionsInFlight: Gauge;
  readonly validationsInFlight: Gauge;
  readonly validationWaits: Counter;
  readonly cachedContracts: Gauge;
  readonly contractLookups: Counter<'source'>;
  readonly handlerDelay: Gauge;
  readonly #acsSize: Gauge;

  constructor(metrics: NodeMetrics) {
    this.submissions = metrics.counter(
      'participant_submissions_total',
      'Commands submitted, by result (sent, or the error that stopped them before sequencing).',
      ['result'],
    );
    this.requests = metrics.counter(
      'participant_requests_total',
      'Confirmation requests this participant validated, by outcome (approved, rejected, timed_out).',
      ['outcome'],
    );
    this.inflight = metrics.gauge(
      'participant_inflight_requests',
      'Requests validated and awaiting a verdict.',
    );
    this.phases = metrics.histogram(
      'participant_phase_seconds',
      'Time of each protocol phase of this participant’s own submissions.',
      ['phase'],
      PHASE_BUCKETS,
    );
    this.submissionsInFlight = metrics.gauge(
      'participant_submissions_in_flight',
      'Submissions from interpretation to completion; at maxSubmissionsInFlight, submit refuses with PARTICIPANT_OVERLOADED.',
    );
    this.validationsInFlight = metrics.gauge(
      'participant_validations_in_flight',
      'Phase 3 validations running (model conformance and responses); at maxValidationsInFlight event processing waits.',
    );
    this.validationWaits = metrics.counter(
      'participant_validation_backpressure_total',
      'Times event processing waited because maxValidationsInFlight validations were running.',
    );
    this.cachedContracts = metrics.gauge(
      'participant_contract_cache_size',
      'Active contracts held in the cache (at most contractCacheSize), besides those with changes not yet durable.',
    );
    this.contractLookups = metrics.counter(
      'participant_contract_lookups_total',
      'Contract states looked up, by where they were found: memory, or the database (a cache miss).',
      ['source'],
    );
    this.#acsSize = metrics.gauge(
      'participant_acs_size',
      'Active contracts of the hosted parties (counted in the database on each scrape).',
      [],
      async (g) => {
        // A count that fails (the database is down: weft_db_storage_healthy says so) leaves the last value.
        const count = await acsCounters
          .get(g)?.()
          .catch(() => undefined);
        if (count !== undefined) g.set(count);
      },
    );
    this.handlerDelay = metrics.gauge(
      'sequencer_client_handler_delay_seconds',
      'How far behind the sequencer this participant processes: wall clock minus the sequencing time of the event it handled last (Canton: daml_sequencer_client_handler_delay).',
    );
  }

  /** Where the ACS size gauge counts; a participant re-created on the same registry takes the gauge over. */
  countActiveContractsWith(count: () => Promise<number>): void {
    acsCounters.set(this.#acsSize, count);
  }

  recordPhases(t: PhaseTimings): void {
    for (const [phase, ms] of Object.entries(t)) this.phases.observe({ phase }, ms / 1000);
  }
}
