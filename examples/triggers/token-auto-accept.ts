/**
 * Accepts every token transfer offer made to the trigger's party (splice-test-token-v1's `TokenTransferOffer`,
 * through the token standard's `TransferInstruction` interface), as a wallet's auto-accept setting would.
 *
 * A trigger package needs nothing from Weft at run time: each export is a function of the trigger API (value and
 * command builders) returning the trigger; the import below is of types only.
 */
import type { Trigger, TriggerApi } from '../../src/triggers/index.js';

const OFFER = '#splice-test-token-v1:Splice.Testing.Tokens.TestTokenV1:TokenTransferOffer';
const TRANSFER_INSTRUCTION =
  '#splice-api-token-transfer-instruction-v1:Splice.Api.Token.TransferInstructionV1:TransferInstruction';

/** State: how many offers it accepted (updateState counts its accepting transactions). */
export const autoAccept = ({ ledger }: TriggerApi): Trigger<{ accepted: number }> => {
  const noMeta = ledger.record({ values: ledger.textMap({}) });
  const extraArgs = ledger.record({ extraArgs: ledger.record({ context: noMeta, meta: noMeta }) });
  return {
    registeredTemplates: [OFFER],
    initialize: () => ({ accepted: 0 }),
    updateState: (state, message) =>
      message.kind === 'completion' && message.ours && (message.completion.status?.code ?? 0) === 0
        ? { accepted: state.accepted + 1 }
        : state,
    rule: ({ party, acs, emit }) => {
      for (const offer of acs.contracts(OFFER)) {
        const { receiver } = offer.payload.transfer as { receiver: string };
        if (receiver !== party) continue;
        // The offer is hidden from the rule until the command completes: it is accepted once.
        emit(
          [ledger.exercise(TRANSFER_INSTRUCTION, offer.contractId, 'TransferInstruction_Accept', extraArgs)],
          [offer.contractId],
        );
      }
      return undefined;
    },
  };
};
