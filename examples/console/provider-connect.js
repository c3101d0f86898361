// Bob connects his own participant to both nodes of the sequencer over https (the root CA comes from the config's
// custom-trust-certificates), uploads the application's DAR and enables the application's admin party.
//   weft console -c network.conf --script provider-connect.js
participantBob.synchronizers.connect_multi('BobDomainName', Seq(sequencer1, sequencer2))
participantBob.dars.upload('app.dar')
print(await participantBob.parties.enable('bob'))
