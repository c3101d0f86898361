// Alice sets up her application on her participant's Ledger API: a party, a user that acts as it, the
// application's first contract (a Ledger API Command in the protobuf JSON mapping), and what the party then sees.
//   weft console -c alice.conf --script user-ledger.js
const alice = await participantAlise.ledger_api.parties.allocate('alice')
participantAlise.ledger_api.users.create('alice-app', Seq(alice))
const dar = (await participantAlise.dars.list()).find((d) => d.name === 'splice-test-token-v1')
const rules = {
  create: {
    templateId: {
      packageId: dar.mainPackageId,
      moduleName: 'Splice.Testing.Tokens.TestTokenV1',
      entityName: 'TokenRules',
    },
    createArguments: { fields: [{ label: 'admin', value: { party: alice.toProtoPrimitive() } }] },
  },
}
participantAlise.ledger_api.commands.submit(Seq(alice), Seq(rules), 'alice-rules', Seq(), 'alice-app')
print(await participantAlise.ledger_api.state.acs.of_party(alice))
print(await participantAlise.ledger_api.updates.transactions(Seq(alice)))
