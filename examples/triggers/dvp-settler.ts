/**
 * The trading venue's periodic settler for splice-token-test-trading-app: on every heartbeat it settles each
 * `OTCTrade` the party runs as venue whose legs are all allocated (one `TokenAllocation` per leg, made for this
 * trade with the venue as executor), exercising `OTCTrade_Settle` so that every leg transfers in one transaction
 * (delivery versus payment). Trades with a leg still unallocated wait for a later heartbeat.
 */
import type { Trigger, TriggerApi, TriggerContract } from '../../src/triggers/index.js';

const OTC_TRADE = '#splice-token-test-trading-app:Splice.Testing.Apps.TradingApp:OTCTrade';
const ALLOCATION = '#splice-test-token-v1:Splice.Testing.Tokens.TestTokenV1:TokenAllocation';

interface Allocation {
  readonly transferLegId: string;
  readonly settlement: { readonly executor: string; readonly settlementRef: { readonly cid: string | null } };
}

/** State: whether a heartbeat came since the last settlement round (rounds run once per heartbeat). */
export const dvpSettler = ({ ledger }: TriggerApi): Trigger<{ due: boolean }> => {
  const noMeta = ledger.record({ values: ledger.textMap({}) });
  const extraArgs = ledger.record({ context: noMeta, meta: noMeta });
  const allocationOf = (c: TriggerContract) => c.payload.allocation as Allocation;
  return {
    registeredTemplates: [OTC_TRADE, ALLOCATION],
    heartbeatMs: 500,
    initialize: () => ({ due: false }),
    updateState: (state, message) => (message.kind === 'heartbeat' ? { due: true } : state),
    rule: ({ party, state, acs, emit }) => {
      if (!state.due) return undefined;
      const allocations = acs
        .contracts(ALLOCATION)
        .filter((a) => allocationOf(a).settlement.executor === party);
      for (const trade of acs.contracts(OTC_TRADE)) {
        const { venue, tradeCid, transferLegs } = trade.payload as {
          venue: string;
          tradeCid: string;
          transferLegs: Record<string, unknown>;
        };
        if (venue !== party) continue;
        const legs = Object.keys(transferLegs).map((legId) => ({
          legId,
          allocation: allocations.find(
            (a) =>
              allocationOf(a).transferLegId === legId &&
              allocationOf(a).settlement.settlementRef.cid === tradeCid,
          ),
        }));
        if (legs.some((l) => l.allocation === undefined)) continue;
        const withContext = Object.fromEntries(
          legs.map((l) => [l.legId, ledger.tuple2(ledger.contractId(l.allocation!.contractId), extraArgs)]),
        );
        emit(
          [
            ledger.exercise(
              OTC_TRADE,
              trade.contractId,
              'OTCTrade_Settle',
              ledger.record({ allocationsWithContext: ledger.textMap(withContext) }),
            ),
          ],
          [trade.contractId, ...legs.map((l) => l.allocation!.contractId)],
        );
      }
      return { due: false };
    },
  };
};
