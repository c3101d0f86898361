import type { Hash } from '../crypto/index.js';
import type {
  EncryptedViewMessage,
  InformeeMessage,
} from '../generated/weft/protocol/v1/confirmation_request.js';
import {
  ProtocolMessage,
  type SignedProtocolMessage,
} from '../generated/weft/protocol/v1/protocol_message.js';
import { ViewType } from '../generated/weft/protocol/v1/transaction_tree.js';
import { type Envelope, EnvelopeKind, type Recipient } from '../generated/weft/sequencer/v1/sequencing.js';
import { FAST_WRITE_OPTIONS } from '../wire/index.js';
import { decodeStrict, malformed } from './codec.js';

/**
 * Envelope framing: every confirmation-protocol message travels as an encoded {@link ProtocolMessage} in a PROTOCOL
 * envelope, so the messages of one batch are told apart by the oneof.
 */

export type ProtocolMessageBody = Exclude<ProtocolMessage['message'], { oneofKind: undefined }>;

export const memberRecipient = (member: string): Recipient => ({
  recipient: { oneofKind: 'member', member },
});

export const mediatorGroupRecipient = (group: number): Recipient => ({
  recipient: { oneofKind: 'mediatorGroup', mediatorGroup: group },
});

export function protocolEnvelope(message: ProtocolMessageBody, recipients: readonly Recipient[]): Envelope {
  return {
    content: ProtocolMessage.toBinary({ message }, FAST_WRITE_OPTIONS),
    recipients: [...recipients],
    kind: EnvelopeKind.PROTOCOL,
  };
}

/** Decodes a PROTOCOL envelope's message; throws PROTOCOL_MESSAGE_MALFORMED for anything else. */
export function decodeProtocolMessage(envelope: Envelope): ProtocolMessageBody {
  if (envelope.kind !== EnvelopeKind.PROTOCOL) malformed(`envelope kind ${envelope.kind} is not PROTOCOL`);
  const message = decodeStrict(ProtocolMessage, envelope.content, 'protocol message').message;
  if (message.oneofKind === undefined) malformed('the protocol message is empty');
  return message;
}

export interface ConfirmationRequestEnvelopes {
  readonly informeeMessage: InformeeMessage;
  readonly rootHash: Hash;
  readonly synchronizerId: string;
  readonly mediatorGroup: number;
  /** Every participant hosting an informee of the request (each gets a root hash message). */
  readonly informeeParticipants: readonly string[];
  /** Each view's encrypted message with the participants that may see it. */
  readonly views: readonly {
    readonly message: EncryptedViewMessage;
    readonly recipients: readonly string[];
  }[];
}

/**
 * The batch of a confirmation request: the InformeeMessage to the mediator group, a RootHashMessage to each informee
 * participant together with the mediator group (one envelope each, since recipients see an envelope's recipient
 * list), and the encrypted views.
 */
export function confirmationRequestEnvelopes(r: ConfirmationRequestEnvelopes): Envelope[] {
  const group = mediatorGroupRecipient(r.mediatorGroup);
  const rootHash = r.rootHash.toMultihash();
  return [
    protocolEnvelope({ oneofKind: 'informeeMessage', informeeMessage: r.informeeMessage }, [group]),
    ...r.informeeParticipants.map((p) =>
      protocolEnvelope(
        {
          oneofKind: 'rootHashMessage',
          rootHashMessage: { rootHash, synchronizerId: r.synchronizerId, viewType: ViewType.TRANSACTION },
        },
        [memberRecipient(p), group],
      ),
    ),
    ...r.views.map((v) =>
      protocolEnvelope(
        { oneofKind: 'encryptedViewMessage', encryptedViewMessage: v.message },
        v.recipients.map(memberRecipient),
      ),
    ),
  ];
}

/** A participant's signed responses, to the request's mediator group. */
export function confirmationResponsesEnvelope(
  signed: SignedProtocolMessage,
  mediatorGroup: number,
): Envelope {
  return protocolEnvelope({ oneofKind: 'confirmationResponses', confirmationResponses: signed }, [
    mediatorGroupRecipient(mediatorGroup),
  ]);
}

/** A signed verdict, one envelope per recipient so no participant learns who else was involved. */
export function confirmationResultEnvelopes(
  signed: SignedProtocolMessage,
  recipients: readonly string[],
): Envelope[] {
  return recipients.map((member) =>
    protocolEnvelope({ oneofKind: 'confirmationResult', confirmationResult: signed }, [
      memberRecipient(member),
    ]),
  );
}
