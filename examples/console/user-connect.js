// Alice connects to Bob's synchronizer through the sequencer endpoints (https, a root CA that is not publicly
// signed: the config's custom-trust-certificates) with the seed's line as written, waits until the connection is
// active, uploads the application's DARs and pings the provider's participant.
//   weft console -c alice.conf --script user-connect.js
participantAlise.domains.connect_multi("AliceDomainName", Seq(sequencer1, sequencer2))
utils.retry_until_true(() => participantAlise.synchronizers.active('AliceDomainName'))
participantAlise.dars.upload('app.dar')
print(await participantAlise.synchronizers.list_connected())
print(`ping ${(await participantAlise.health.ping(participantBob)).toFixed(0)} ms`)
