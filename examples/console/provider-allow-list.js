// Bob, the provider, adds Alice's participant to the synchronizer's allow-list with default permissions (the
// seed's line, as written), and allow-lists his own participant.
//   weft console -c network.conf --script provider-allow-list.js
const participantIdFromString = ParticipantId.tryFromProtoPrimitive(
  utils.read_first_line_from_file('alice-participant.id'),
)
domainManager1.participants.set_state(participantIdFromString, ParticipantPermission.Submission, TrustLevel.Ordinary)
domainManager1.participants.set_state(participantBob, ParticipantPermission.Submission, TrustLevel.Ordinary)
print(await domainManager1.topology.participant_synchronizer_permissions.list())
