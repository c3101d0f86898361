// Canton's example 04-high-availability, admin/bootstrap.canton in JavaScript: a synchronizer of two reference
// sequencers ordering through one database and the active mediator replica, the active participant replica
// connected to both sequencers, and a ping. Side a starts first (its replicas are active), side b waits passive:
//   weft run -c postgres.conf -c sequencer-a.conf -c mediator-a.conf -c participant-a.conf
//   weft run -c postgres.conf -c sequencer-b.conf -c mediator-b.conf -c participant-b.conf
//   weft console -c admin/remote-sequencer-a.conf -c admin/remote-sequencer-b.conf \
//     -c admin/remote-mediator-a.conf -c admin/remote-participant-a.conf --script ha-bootstrap.js
print('Bootstrapping synchronizer')
const synchronizer = await bootstrap.synchronizer({
  synchronizerName: 'ha-synchronizer',
  sequencers: Seq(sequencer_a, sequencer_b),
  mediators: Seq(mediator_a),
  synchronizerOwners: Seq(sequencer_a, sequencer_b),
})
print('Connecting participant to synchronizer')
participant_a.synchronizers.connect_local_bft(Seq(sequencer_a, sequencer_b), 'ha-synchronizer')
print(`${synchronizer.synchronizerId}: ping ${(await participant_a.health.ping(participant_a)).toFixed(0)} ms`)
