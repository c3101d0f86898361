import {
  type AggregationFactory,
  type AggregationView,
  type PartyConfirmers,
  ResponseAggregation,
  type ResponseInput,
} from '../mediator/index.js';

/**
 * A bug planted in a test build, to show that the simulation finds it (src/simulation/simulation.test.ts): a
 * mediator that counts a participant's rejection of a view as an approval, so that a request a confirming
 * participant refused (a contract it knows is consumed or locked) is approved anyway. Injected through the
 * simulation's wiring (`SimulationOptions.aggregation`); production builds never construct it.
 */
export const approveRejections: AggregationFactory = (views, confirmers) =>
  new RejectionsApproved(views, confirmers);

class RejectionsApproved extends ResponseAggregation {
  constructor(views: readonly AggregationView[], confirmers: ReadonlyMap<string, PartyConfirmers>) {
    super(views, confirmers);
  }

  override apply(sender: string, response: ResponseInput): string | undefined {
    const verdict = response.verdict.verdict;
    if (verdict.oneofKind !== 'reject' || response.viewKey === undefined)
      return super.apply(sender, response);
    return super.apply(sender, { ...response, verdict: { verdict: { oneofKind: 'approve', approve: {} } } });
  }
}

/** The planted bugs by name, for `npm run simulate -- --planted <name>`. */
export const PLANTED: Readonly<Record<string, AggregationFactory>> = {
  'approve-rejections': approveRejections,
};
