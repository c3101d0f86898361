// Alice, the new application user, extracts her participant's id into a string and makes it known to the
// provider (here: a file she sends by e-mail).
//   weft console -c alice.conf --script user-export-id.js
const participantIdFromString = (await participantAlise.id).toProtoPrimitive()
utils.write_to_file(participantIdFromString, 'alice-participant.id')
print(participantIdFromString)
